import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffObjects } from '../../src/diff/create-diff-object.js';
import { probeStructSizes } from '../../src/diff/probe-struct-sizes.js';
import type { StructSizes } from '../../src/diff/struct-sizes.js';
import { prepareDebianSource } from '../../src/distro/prepare-debian-source.js';
import { findSection, parseElf, serializeElf } from '../../src/elf/index.js';
import { buildSingleObjects } from '../../src/kbuild/build-single-objects.js';
import { rebuildKernelObject } from '../diff/support/rebuild-kernel-object.js';

/** sizeof(struct _ddebug) on 6.1 x86_64. */
const DDEBUG_SIZE = 56;

interface DebianObjectCase {
  name: string;
  object: string;
  /** 'vmlinux' or the module the object is linked into. */
  parent: string;
  edit: (source: string) => string;
  expect: { changed: string[]; children?: string[]; descriptors: number } | 'no-change';
}

/** Inserts `text` after `anchor`, failing loudly when the source no longer has the anchor. */
const insertAfter = (anchor: string, text: string) => (source: string) => {
  if (!source.includes(anchor)) throw new Error(`anchor not found: ${anchor}`);
  return source.replace(anchor, `${anchor}${text}`);
};
const replace = (from: string, to: string) => (source: string) => {
  if (!source.includes(from)) throw new Error(`text not found: ${from}`);
  return source.replace(from, to);
};

// Objects of Debian 12's real kernel source, compiled with Debian's config (CONFIG_DYNAMIC_DEBUG=y,
// CONFIG_JUMP_LABEL=y) and flags: lines moved above pr_debug()/dev_dbg()/WARN()/printk() calls must
// not change the set of patched functions (issue 12).
const CASES: DebianObjectCase[] = [
  {
    name: 'kernel/module/main.c: lines inserted into show_refcnt, above 18 pr_debug() calls',
    object: 'kernel/module/main.o',
    parent: 'vmlinux',
    edit: replace(
      '\treturn sprintf(buffer, "%i\\n", module_refcount(mk->mod));',
      '\tif (!mk->mod)\n\t\treturn -ENOENT;\n\treturn sprintf(buffer, "%i\\n", module_refcount(mk->mod));',
    ),
    expect: { changed: ['show_refcnt'], descriptors: 0 },
  },
  {
    name: 'kernel/module/main.c: only lines moved (pr_debug, WARN_ON, pr_warn, BUG_ON below)',
    object: 'kernel/module/main.o',
    parent: 'vmlinux',
    edit: insertAfter('#include "internal.h"\n', '\n/*\n * Three more lines.\n */\n'),
    expect: 'no-change',
  },
  {
    name: 'kernel/module/main.c: a pr_debug() format changed in module_unload_free',
    object: 'kernel/module/main.o',
    parent: 'vmlinux',
    edit: replace('pr_debug("%s unusing %s\\n"', 'pr_debug("%s stops using %s\\n"'),
    expect: { changed: ['module_unload_free'], descriptors: 1 },
  },
  {
    name: 'drivers/misc/eeprom/at24.c (module): lines inserted above the dev_dbg() calls',
    object: 'drivers/misc/eeprom/at24.o',
    parent: 'at24',
    edit: insertAfter('\tif (capable(CAP_SYS_ADMIN))\n\t\treturn;\n', '\n\tif (!count)\n\t\treturn;\n'),
    expect: { changed: ['at24_read_post_vaio'], descriptors: 0 },
  },
  {
    name: 'drivers/misc/eeprom/at24.c (module): a dev_dbg() format changed, its jump label keyed in the copy',
    object: 'drivers/misc/eeprom/at24.o',
    parent: 'at24',
    edit: replace('"read %zu@%d --> %d (%ld)\\n"', '"read %zu@%d --> %d (%ld jiffies)\\n"'),
    expect: { changed: ['at24_read'], descriptors: 1 },
  },
  {
    name: 'drivers/misc/eeprom/at24.c (module): a message in the .cold part of at24_probe changed',
    object: 'drivers/misc/eeprom/at24.o',
    parent: 'at24',
    edit: replace('"page_size must not be 0!\\n"', '"page_size must not be 0 (patched)!\\n"'),
    // The parent is what livepatch redirects; the .cold piece it jumps to is copied with it.
    expect: { changed: ['at24_probe'], children: ['at24_probe.cold'], descriptors: 0 },
  },
];

let tree: string;
let outDir: string;
const sizes = new Map<string, StructSizes>();
const originals = new Map<string, string>();

beforeAll(async () => {
  tree = (await prepareDebianSource('latest')).tree;
  outDir = await mkdtemp(join(tmpdir(), 'cdo-debian-'));
  const objects = [...new Set(CASES.map((c) => c.object))];
  // The recorded kbuild commands (.cmd files) of these objects, from Debian's tree.
  await buildSingleObjects(tree, objects, { logFile: join(outDir, 'build.log'), jobs: 2 });
  for (const object of objects) {
    sizes.set(object, await probeStructSizes(tree, object));
    originals.set(object, await rebuildKernelObject({ buildDir: tree, object, outDir, label: 'orig' }));
  }
});
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe('create-diff-object on objects of the Debian 6.1 source with Debian config', () => {
  it.each(CASES.map((c, i) => [c.name, i] as const))('%s', async (_name, index) => {
    const c = CASES[index]!;
    const origPath = originals.get(c.object)!;
    const patchedPath = await rebuildKernelObject({
      buildDir: tree,
      object: c.object,
      outDir,
      label: `case${index}`,
      edit: c.edit,
    });
    const { report, output } = diffObjects({
      origPath,
      orig: await readFile(origPath),
      patchedPath,
      patched: await readFile(patchedPath),
      parent: c.parent,
      structSizes: sizes.get(c.object)!,
    });
    expect(report.refusals).toEqual([]);
    if (c.expect === 'no-change') {
      expect(report.outcome).toBe('no-change');
      return;
    }
    expect(report.outcome).toBe('changed');
    expect([...report.changedFunctions].sort()).toEqual(c.expect.changed);
    expect(report.newFunctions).toEqual([]);
    expect(report.childFunctions).toEqual(c.expect.children ?? []);
    const elf = parseElf(serializeElf(output!));
    // The patched functions' own descriptors, and no other function's.
    expect(findSection(elf, '__dyndbg')?.size ?? 0).toBe(c.expect.descriptors * DDEBUG_SIZE);
    const keys = (elf.sections.find((s) => s.name === '.rela__jump_table')?.relocations ?? []).filter(
      (r) => r.symbol?.section?.name === '__dyndbg',
    );
    expect(keys.length).toBe(c.expect.descriptors);
  });
});
