import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import type { LivepatchModuleSpec } from '../../src/module/module-spec.js';
import { livepatchModuleName, validateModuleSpec } from '../../src/module/module-spec.js';
import { renderLivepatchC } from '../../src/module/render-livepatch-c.js';

const spec: LivepatchModuleSpec = {
  name: 'livepatch-demo',
  replace: false,
  linkedObjects: ['/tmp/x.o'],
  objects: [
    {
      name: 'vmlinux',
      functions: [{ oldName: 'cmdline_proc_show', oldSympos: 0, newSymbol: 'cmdline_proc_show' }],
      references: [{ symbol: 'saved_command_line', sympos: 0 }],
    },
    {
      name: 'nfsd',
      functions: [{ oldName: 'nfsd_open', oldSympos: 2, newSymbol: 'nfsd_open.isra.0' }],
      references: [],
      callbacks: { prePatch: 'my_pre', postUnpatch: 'my_post' },
    },
  ],
};

describe('renderLivepatchC', () => {
  const c = renderLivepatchC(spec);

  it('binds every real symbol through an asm label, so header declarations and odd names cannot clash', () => {
    expect(c).toContain('extern char klp_sym_0[] __asm__("cmdline_proc_show");');
    expect(c).toContain('extern char klp_sym_1[] __asm__("saved_command_line");');
    expect(c).toContain('extern char klp_sym_2[] __asm__("nfsd_open.isra.0");');
    expect(c).toContain('extern int klp_sym_3(struct klp_object *obj) __asm__("my_pre");');
    expect(c).toContain('extern void klp_sym_4(struct klp_object *obj) __asm__("my_post");');
  });

  it('describes functions, objects, references and callbacks', () => {
    expect(c).toMatch(/\.old_name = "nfsd_open",\n\t\t\.new_func = klp_sym_2,\n\t\t\.old_sympos = 2,/);
    expect(c).toMatch(/KLP_MODULE_RELOC\(vmlinux\) = \{\n\tKLP_SYMPOS\(klp_sym_1, 0\),\n\};/);
    expect(c).not.toMatch(/KLP_MODULE_RELOC\(nfsd\)/);
    expect(c).toMatch(/\.name = NULL,\n\t\t\.funcs = klp_funcs_0,/);
    expect(c).toMatch(
      /\.name = "nfsd",\n\t\t\.funcs = klp_funcs_1,\n\t\t\.callbacks = \{\n\t\t\t\.pre_patch = klp_sym_3,\n\t\t\t\.post_unpatch = klp_sym_4,/,
    );
    expect(c).toContain('.replace = false,');
    expect(c).toContain('MODULE_INFO(livepatch, "Y");');
  });
});

describe('livepatchModuleName', () => {
  it.each([
    [['fixes/dirtycow.patch'], undefined, 'livepatch-dirtycow'],
    [['a/b/CVE 2024:1.diff'], undefined, 'livepatch-CVE-2024-1'],
    [['x.patch'], 'my_patch-v2', 'my_patch-v2'],
    [['x.patch'], 'a'.repeat(55), 'a'.repeat(55)],
  ])('%j with -n %j is %s', (patches, explicit, name) => {
    expect(livepatchModuleName(patches, explicit)).toBe(name);
  });
  it.each([
    [['x.patch'], 'foo/bar', /-n\/--name "foo\/bar": a module name holds only/],
    [['x.patch'], 'my.patch+v2', /only letters, digits/],
    [['x.patch'], 'a'.repeat(56), /56 characters; the kernel allows at most 55/],
    [[`${'b'.repeat(50)}.patch`], undefined, /derived from b+\.patch .* 60 characters/],
  ])('%j with -n %j is refused, not rewritten', (patches, explicit, message) => {
    expect(() => livepatchModuleName(patches, explicit)).toThrow(message);
  });
});

describe('validateModuleSpec', () => {
  it.each([
    ['a bad module name', { ...spec, name: 'has space' }, /module name "has space"/],
    [
      'no functions',
      { ...spec, objects: [{ name: 'vmlinux', functions: [], references: [] }] },
      /replaces no function/,
    ],
    [
      'an object name with a dot',
      { ...spec, objects: [{ ...spec.objects[0]!, name: 'nf.sd' }] },
      /object name "nf\.sd"/,
    ],
    [
      'a symbol with a comma',
      { ...spec, objects: [{ ...spec.objects[0]!, references: [{ symbol: 'a,b', sympos: 0 }] }] },
      /symbol name "a,b"/,
    ],
    ['a duplicate object', { ...spec, objects: [spec.objects[0]!, spec.objects[0]!] }, /listed twice/],
  ])('refuses %s', (_, bad, message) => {
    expect(() => validateModuleSpec(bad as LivepatchModuleSpec)).toThrow(UsageError);
    expect(() => validateModuleSpec(bad as LivepatchModuleSpec)).toThrow(message);
  });

  it('accepts the example', () => {
    expect(() => validateModuleSpec(spec)).not.toThrow();
  });
});
