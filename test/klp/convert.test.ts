import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseElf } from '../../src/elf/index.js';
import type { ConvertLivepatchOptions, ConvertLivepatchResult } from '../../src/klp/index.js';
import { convertLivepatchModule, livepatchSectionProblems } from '../../src/klp/index.js';
import {
  buildLivepatch,
  buildTargetModule,
  KALLSYMS,
  makeTempDir,
  removeTempDir,
  SYMVERS,
  writeText,
} from './support/build.js';
import type { RelocationRow, SectionRow, SymbolRow } from './support/readelf.js';
import { relocationTable, sectionStrings, sectionTable, symbolTable } from './support/readelf.js';

/** 512 characters, one more than the kernel's KSYM_NAME_LEN - 1 (found in the kallsyms written below). */
const LONG_NAME = `long_name_${'x'.repeat(502)}`;

let dir: string;
let targetModule: string;
let kallsyms: string;
let symvers: string;

beforeAll(async () => {
  dir = await makeTempDir('convert');
  targetModule = await buildTargetModule(dir);
  kallsyms = await writeText(dir, 'kallsyms', `${KALLSYMS}ffffffff81000400 t ${LONG_NAME}\n`);
  symvers = await writeText(dir, 'Module.symvers', SYMVERS);
});

afterAll(() => removeTempDir(dir));

/** Converts with the miniature target: kallsyms, Module.symvers and target-mod.ko, no cache. */
function convert(input: string, output: string, extra: Partial<ConvertLivepatchOptions> = {}) {
  return convertLivepatchModule({
    input,
    output,
    systemMap: kallsyms,
    moduleSymvers: symvers,
    targetModules: [targetModule],
    cacheDir: false,
    ...extra,
  });
}

describe('klp-convert on a module that uses every kind of reference', () => {
  let input: string;
  let output: string;
  let result: ConvertLivepatchResult;
  let sections: Map<string, SectionRow>;
  let symbols: SymbolRow[];
  let relocations: Map<string, RelocationRow[]>;
  let inputRelocations: Map<string, RelocationRow[]>;

  beforeAll(async () => {
    input = await buildLivepatch(dir, 'full');
    output = join(dir, 'full-out.ko');
    result = await convert(input, output);
    sections = await sectionTable(output);
    symbols = await symbolTable(output);
    relocations = await relocationTable(output);
    inputRelocations = await relocationTable(input);
  });

  it.each([
    ['.klp.rela.vmlinux..text.klp_patched_fn', '.text.klp_patched_fn'],
    ['.klp.rela.target_mod..text.klp_patched_fn', '.text.klp_patched_fn'],
    ['.klp.rela.vmlinux..data.klp_table', '.data.klp_table'],
    ['.klp.rela.target_mod..data.klp_table', '.data.klp_table'],
  ])('writes %s: SHT_RELA, flags AIo, sh_info %s, sh_link .symtab, entsize 24, align 8', (name, target) => {
    const row = sections.get(name);
    expect(row).toMatchObject({ type: 'RELA', flags: 'AIo', entsize: 24, align: 8 });
    expect(row?.info).toBe(sections.get(target)?.index);
    expect(row?.link).toBe(sections.get('.symtab')?.index);
  });

  it('writes no other livepatch relocation section', () => {
    const klp = [...sections.keys()].filter((n) => n.startsWith('.klp.'));
    expect(klp.sort()).toEqual([
      '.klp.rela.target_mod..data.klp_table',
      '.klp.rela.target_mod..text.klp_patched_fn',
      '.klp.rela.vmlinux..data.klp_table',
      '.klp.rela.vmlinux..text.klp_patched_fn',
    ]);
  });

  it.each([
    ['.klp.sym.vmlinux.saved_command_line,0'],
    ['.klp.sym.vmlinux.dup_static,2'],
    ['.klp.sym.target_mod.mod_static,0'],
    ['.klp.sym.target_mod.mod_export,0'],
  ])('defines %s with st_shndx SHN_LIVEPATCH', (name) => {
    const row = symbols.filter((s) => s.name === name);
    expect(row).toHaveLength(1);
    expect(row[0]).toMatchObject({ ndx: 'OS [0xff20]', value: 0n, bind: 'GLOBAL' });
  });

  it('moves each converted relocation with its offset, type and addend, and keeps the rest', () => {
    const moved = (name: string) =>
      (relocations.get(name) ?? []).map((r) => [r.offset, r.type, r.symbol, r.addend]);
    expect(moved('.klp.rela.vmlinux..text.klp_patched_fn')).toEqual([
      [0x9n, 'R_X86_64_PLT32', '.klp.sym.vmlinux.dup_static,2', '- 4'],
      [0x3en, 'R_X86_64_PC32', '.klp.sym.vmlinux.saved_command_line,0', '- 4'],
    ]);
    expect(moved('.klp.rela.target_mod..text.klp_patched_fn')).toEqual([
      [0x1bn, 'R_X86_64_PLT32', '.klp.sym.target_mod.mod_export,0', '- 4'],
      [0x2an, 'R_X86_64_PC32', '.klp.sym.target_mod.mod_static,0', '- 4'],
    ]);
    expect(moved('.klp.rela.vmlinux..data.klp_table')).toEqual([
      [0x0n, 'R_X86_64_64', '.klp.sym.vmlinux.saved_command_line,0', '+ 0'],
    ]);
    expect(moved('.klp.rela.target_mod..data.klp_table')).toEqual([
      [0x8n, 'R_X86_64_64', '.klp.sym.target_mod.mod_static,0', '+ 0'],
    ]);
    // The vmlinux export and the weak reference stay normal relocations, at their offsets.
    expect(moved('.rela.text.klp_patched_fn')).toEqual([
      [0x12n, 'R_X86_64_PLT32', 'exported_fn', '- 4'],
      [0x24n, 'R_X86_64_32S', 'weak_ref', '+ 0'],
      [0x36n, 'R_X86_64_PLT32', 'weak_ref', '- 4'],
    ]);
    expect(moved('.rela.data.klp_table')).toEqual([[0x10n, 'R_X86_64_64', 'exported_fn', '+ 0']]);
    // Every input relocation of those sections is accounted for.
    const count = (m: Map<string, RelocationRow[]>, names: string[]) =>
      names.reduce((n, name) => n + (m.get(name)?.length ?? 0), 0);
    expect(
      count(relocations, [
        '.rela.text.klp_patched_fn',
        '.klp.rela.vmlinux..text.klp_patched_fn',
        '.klp.rela.target_mod..text.klp_patched_fn',
      ]),
    ).toBe(count(inputRelocations, ['.rela.text.klp_patched_fn']));
  });

  it('leaves only the export and the weak reference undefined', () => {
    expect(symbols.filter((s) => s.ndx === 'UND' && s.name !== '').map((s) => s.name)).toEqual([
      'weak_ref',
      'exported_fn',
    ]);
    expect(result.exportsKept).toEqual(['exported_fn']);
    expect(result.unresolved).toEqual(['weak_ref']);
  });

  it('removes the KLP_MODULE_RELOC arrays with their relocations and symbols', () => {
    expect([...sections.keys()].filter((n) => n.includes('module_relocs'))).toEqual([]);
    expect([...relocations.keys()].filter((n) => n.includes('module_relocs'))).toEqual([]);
    expect(symbols.filter((s) => s.name.includes('klp_module_relocs'))).toEqual([]);
    expect(result.removedSections).toEqual([
      '.klp.module_relocs.target_mod',
      '.rela.klp.module_relocs.target_mod',
      '.klp.module_relocs.vmlinux',
      '.rela.klp.module_relocs.vmlinux',
    ]);
  });

  it('drops the converted module export from __versions and its module from depends=', async () => {
    expect(sections.get('__versions')?.size).toBe(128);
    const versions = await readFile(output).then(
      (b) => parseElf(b).sections.find((s) => s.name === '__versions')!,
    );
    const names = [0, 64].map((at) =>
      versions.data.toString('latin1', at + 8, versions.data.indexOf(0, at + 8)),
    );
    expect(names).toEqual(['module_layout', 'exported_fn']);
    expect(result.removedVersions).toEqual(['mod_export']);
    const modinfo = await sectionStrings(output, '.modinfo');
    expect(modinfo).toContain('depends=other_mod');
    expect(modinfo).toContain('livepatch=Y');
    expect(result.removedDepends).toEqual(['target-mod']);
    // The symbol covering __versions shrank with it.
    expect(symbols.find((s) => s.name === '____versions')?.size).toBe(128);
  });

  it('reports what it converted and why', () => {
    expect(
      result.converted.map((c) => [c.name, c.object, c.sympos, c.reason, c.relocations, c.candidates]),
    ).toEqual([
      ['saved_command_line', 'vmlinux', 0, 'unique', 2, 1],
      ['mod_static', 'target_mod', 0, 'declared', 2, 1],
      ['dup_static', 'vmlinux', 2, 'declared', 1, 2],
      ['mod_export', 'target_mod', 0, 'module-export', 1, 1],
    ]);
  });

  it('writes a module whose livepatch sections the kernel would accept, and converting it again changes nothing', async () => {
    const bytes = await readFile(output);
    expect(livepatchSectionProblems(parseElf(bytes))).toEqual([]);
    const again = join(dir, 'full-again.ko');
    const second = await convert(output, again);
    expect(second.converted).toEqual([]);
    expect(second.removedSections).toEqual([]);
    expect(await readFile(again)).toEqual(bytes);
  });
});

describe('relocation sites', () => {
  it('are zero in the output even when the input held a value there', async () => {
    const input = await buildLivepatch(dir, 'sites');
    const bytes = await readFile(input);
    const elf = parseElf(bytes);
    const text = elf.sections.find((s) => s.name === '.text.klp_patched_fn')!;
    const data = elf.sections.find((s) => s.name === '.data.klp_table')!;
    // Put garbage at the sites (RELA objects normally hold zeros there; the kernel insists on them).
    text.data.fill(0xcc, 0x3e, 0x42);
    data.data.fill(0xcc, 0, 8);
    const dirty = join(dir, 'sites-dirty.ko');
    const { serializeElf } = await import('../../src/elf/index.js');
    await writeText(dir, 'unused', '');
    await import('node:fs/promises').then((fs) => fs.writeFile(dirty, serializeElf(elf)));
    const output = join(dir, 'sites-out.ko');
    await convert(dirty, output);
    const out = parseElf(await readFile(output));
    const outText = out.sections.find((s) => s.name === '.text.klp_patched_fn')!;
    const outData = out.sections.find((s) => s.name === '.data.klp_table')!;
    expect([...outText.data.subarray(0x3e, 0x42)]).toEqual([0, 0, 0, 0]);
    expect([...outData.data.subarray(0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // Bytes next to the sites are untouched.
    expect(outText.data.subarray(0, 0x3e)).toEqual(text.data.subarray(0, 0x3e));
  });
});

describe('refusals', () => {
  it.each([
    {
      title: 'an ambiguous name without KLP_SYMPOS, listing every candidate and its annotation',
      defines: ['DUP_POS=-1'],
      extra: {},
      messages: [
        /symbol dup_static \(used in \.text\.klp_patched_fn\) is ambiguous: vmlinux has 2 symbols of that name/,
        /KLP_SYMPOS\(dup_static, 1\) {2}ffffffff81000100 t\n/,
        /KLP_SYMPOS\(dup_static, 2\) {2}ffffffff81000300 t/,
        /KLP_MODULE_RELOC\(vmlinux\)/,
      ],
    },
    {
      title: 'KLP_SYMPOS(name, 0) for an ambiguous name',
      defines: ['DUP_POS=0'],
      extra: {},
      messages: [
        /KLP_SYMPOS\(dup_static, 0\) in \.klp\.module_relocs\.vmlinux\[0\]: position 0 needs a unique name, but vmlinux has 2 symbols named dup_static/,
        /KLP_SYMPOS\(dup_static, 2\) {2}ffffffff81000300 t/,
      ],
    },
    {
      title: 'a position past the last symbol of the name',
      defines: ['DUP_POS=3'],
      extra: {},
      messages: [/KLP_SYMPOS\(dup_static, 3\) in .*: vmlinux has only 2 symbols named dup_static/],
    },
    {
      title: 'a symbol found nowhere, naming it',
      defines: ['MISSING'],
      extra: {},
      messages: [
        /symbol missing_symbol \(used in \.text\.klp_patched_fn\) is not exported \(Module\.symvers\) and not found in vmlinux \(.*kallsyms\), module target_mod/,
      ],
    },
    {
      title: 'a module symbol when the module was not given',
      defines: [],
      extra: { targetModules: [] },
      messages: [
        /KLP_SYMPOS\(mod_static, 0\) in \.klp\.module_relocs\.target_mod\[0\]: cannot check the position: module target_mod was not given \(--target-module <path>\/target_mod\.ko\)/,
      ],
    },
    {
      title: 'a symbol name longer than the kernel reads',
      defines: [`LONG_NAME=${LONG_NAME}`],
      extra: {},
      messages: [
        /cannot write a livepatch symbol for long_name_x+: symbol name "long_name_x+\.\.\." has 512 characters; the kernel reads at most 511/,
      ],
    },
    {
      title: 'an object name longer than the kernel reads',
      defines: ['LONG_OBJ', 'NO_MOD_DECL'],
      extra: {},
      messages: [
        /section \.klp\.module_relocs\.a_module_name_that_is_longer_than_the_kernel_reads_xyz12: object name "a_module_name_that_is_longer_than_the_kernel_reads_xyz12" has 56 characters; the kernel reads at most 55/,
      ],
    },
    {
      title: 'a KLP_SYMPOS entry for a symbol the module defines',
      defines: ['SELF_DECL'],
      extra: {},
      messages: [
        /\.klp\.module_relocs\.vmlinux\[\d\]: klp_patched_fn is defined in this module, not in vmlinux; KLP_SYMPOS\(\) takes the extern declaration/,
      ],
    },
    {
      title: 'two different positions declared for one symbol',
      defines: ['DUP_TWICE'],
      extra: {},
      messages: [
        /dup_static is declared twice, differently: KLP_SYMPOS\(dup_static, [12]\) for vmlinux in \.klp\.module_relocs\.vmlinux\[0\] and KLP_SYMPOS\(dup_static, [12]\) for vmlinux in \.klp\.module_relocs\.vmlinux\[1\]/,
      ],
    },
    {
      title: 'a module-specific symbol in __jump_table',
      defines: ['MOD_JUMP_TABLE'],
      extra: {},
      messages: [
        /mod_static \(module target_mod\) used in __jump_table: the module loader reads that section before/,
      ],
    },
  ])('refuses $title', async ({ defines, extra, messages }) => {
    const name = `refuse-${defines.join('-').replaceAll('=', '').slice(0, 40) || 'plain'}-${Object.keys(extra).join('')}`;
    const input = await buildLivepatch(dir, name, defines);
    const error = await convert(input, join(dir, `${name}-out.ko`), extra).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'ConvertError', code: 'convert' });
    const message = (error as Error).message;
    expect(message).toContain(input);
    for (const m of messages) expect(message).toMatch(m);
    expect((error as { hint?: string }).hint).toMatch(/KLP_MODULE_RELOC/);
  });

  it('refuses an undeclared name found in vmlinux and in a target module, naming both objects', async () => {
    const input = await buildLivepatch(dir, 'twoobjects', ['NO_MOD_DECL']);
    const both = await writeText(dir, 'kallsyms-both', `${KALLSYMS}ffffffff81000500 d mod_static\n`);
    await expect(convert(input, join(dir, 'twoobjects-out.ko'), { systemMap: both })).rejects.toThrow(
      /symbol mod_static \(used in \.text\.klp_patched_fn, \.data\.klp_table\) exists in more than one object; declare which with KLP_MODULE_RELOC\(<object>\) = \{ KLP_SYMPOS\(mod_static, N\) \}:\n {6}KLP_MODULE_RELOC\(vmlinux\): 1 symbol named mod_static\n {6}KLP_MODULE_RELOC\(target_mod\): 1 symbol named mod_static/,
    );
  });

  it('lists every problem at once', async () => {
    const input = await buildLivepatch(dir, 'many', ['DUP_POS=-1', 'MISSING']);
    const error = await convert(input, join(dir, 'many-out.ko')).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/cannot convert the module \(2 problems\):\n/);
    expect(error?.message).toMatch(
      /\n {2}- symbol dup_static \(used in \.text\.klp_patched_fn\) is ambiguous/,
    );
    expect(error?.message).toMatch(
      /\n {2}- symbol missing_symbol \(used in \.text\.klp_patched_fn\) is not exported/,
    );
  });

  it('leaves a symbol found nowhere undefined with --allow-unresolved, and says so', async () => {
    const input = await buildLivepatch(dir, 'unresolved', ['MISSING']);
    const output = join(dir, 'unresolved-out.ko');
    const result = await convert(input, output, { allowUnresolved: true });
    expect(result.unresolved).toContain('missing_symbol');
    expect(result.warnings.join('\n')).toMatch(
      /missing_symbol: found in no symbol table; left as an undefined reference/,
    );
    const symbols = await symbolTable(output);
    expect(symbols.find((s) => s.name === 'missing_symbol')?.ndx).toBe('UND');
  });

  it('refuses a module without livepatch=Y in .modinfo', async () => {
    const input = await buildLivepatch(dir, 'notlp', [], ['NO_LIVEPATCH']);
    await expect(convert(input, join(dir, 'notlp-out.ko'))).rejects.toThrow(
      /notlp\.ko: \.modinfo has no livepatch= entry/,
    );
  });

  it('refuses a signed module', async () => {
    const input = await buildLivepatch(dir, 'signed');
    const signed = join(dir, 'signed-sig.ko');
    const { appendFile, copyFile } = await import('node:fs/promises');
    await copyFile(input, signed);
    await appendFile(signed, '\x00\x00sig~Module signature appended~\n');
    await expect(convert(signed, join(dir, 'signed-out.ko'))).rejects.toThrow(/the module is signed/);
  });
});

describe('without Module.symvers', () => {
  it('tells vmlinux exports by their __ksymtab_ symbol and module exports by the target module', async () => {
    const input = await buildLivepatch(dir, 'nosymvers');
    const result = await convert(input, join(dir, 'nosymvers-out.ko'), { moduleSymvers: undefined });
    expect(result.exportsKept).toEqual(['exported_fn']);
    expect(result.converted.find((c) => c.name === 'mod_export')).toMatchObject({
      object: 'target_mod',
      reason: 'module-export',
    });
  });
});
