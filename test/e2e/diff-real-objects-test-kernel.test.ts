import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffObjects } from '../../src/diff/create-diff-object.js';
import type { ParentSymbols } from '../../src/diff/parent-symbols.js';
import { loadParentSymbols } from '../../src/diff/parent-symbols.js';
import { probeStructSizes } from '../../src/diff/probe-struct-sizes.js';
import type { StructSizes } from '../../src/diff/struct-sizes.js';
import { prepareTestKernel } from '../../src/distro/prepare-test-kernel.js';
import { findSection, parseElf, serializeElf } from '../../src/elf/index.js';
import { rebuildKernelObject } from '../diff/support/rebuild-kernel-object.js';

interface RealCase {
  name: string;
  object: string;
  edit: (source: string) => string;
  expect: { changed: string[]; added?: string[] } | 'no-change' | { refused: string };
}

const insertAfter = (anchor: string, text: string) => (source: string) =>
  source.replace(anchor, `${anchor}${text}`);

const CASES: RealCase[] = [
  {
    name: 'cmdline: extra seq_puts (the kpatch classic)',
    object: 'fs/proc/cmdline.o',
    edit: insertAfter('seq_puts(m, saved_command_line);', '\n\tseq_puts(m, " kpatch=1");'),
    expect: { changed: ['cmdline_proc_show'] },
  },
  {
    name: 'cmdline: __init function changed',
    object: 'fs/proc/cmdline.o',
    edit: (s) => s.replace('proc_create_single("cmdline", 0,', 'proc_create_single("cmdline", 0400,'),
    expect: { refused: 'init-exit-code' },
  },
  {
    name: 'meminfo: label string changed',
    object: 'fs/proc/meminfo.o',
    edit: (s) => s.replace('"MemTotal:       "', '"MemTotal (kp):  "'),
    expect: { changed: ['meminfo_proc_show'] },
  },
  {
    name: 'meminfo: lines moved only',
    object: 'fs/proc/meminfo.o',
    edit: (s) => s.replace('#include <linux/fs.h>', '#include <linux/fs.h>\n\n\n'),
    expect: 'no-change',
  },
  {
    name: 'fork: extra WARN_ON_ONCE in __mmdrop (bug table entries)',
    object: 'kernel/fork.o',
    edit: insertAfter('WARN_ON_ONCE(mm == current->active_mm);', '\n\tWARN_ON_ONCE(!mm->pgd);'),
    expect: { changed: ['__mmdrop'] },
  },
  {
    name: 'fork: lines moved only (BUG/WARN line numbers)',
    object: 'kernel/fork.o',
    edit: (s) => s.replace('#include <linux/anon_inodes.h>', '#include <linux/anon_inodes.h>\n\n'),
    expect: 'no-change',
  },
  {
    name: 'memory: new check in exported vm_insert_page',
    object: 'mm/memory.o',
    edit: insertAfter('\t\t\tstruct page *page)\n{\n', '\tif (!page)\n\t\treturn -EINVAL;\n'),
    expect: { changed: ['vm_insert_page'] },
  },
];

let tree: string;
let outDir: string;
let sizes: StructSizes;
let vmlinux: ParentSymbols;
const originals = new Map<string, Promise<string>>();

beforeAll(async () => {
  const kernel = await prepareTestKernel();
  tree = kernel.buildDir;
  outDir = await mkdtemp(join(tmpdir(), 'cdo-real-'));
  sizes = await probeStructSizes(tree);
  vmlinux = await loadParentSymbols(join(tree, 'vmlinux'), 'vmlinux', join(tree, 'Module.symvers'));
}, 20 * 60_000);
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

function original(object: string): Promise<string> {
  let built = originals.get(object);
  if (!built) {
    built = rebuildKernelObject({ buildDir: tree, object, outDir, label: 'orig' });
    originals.set(object, built);
  }
  return built;
}

describe('create-diff-object on objects of the test kernel', () => {
  it('learns the special section entry sizes from the tree', () => {
    expect(sizes).toMatchObject({
      BUG_STRUCT_SIZE: 12,
      EX_STRUCT_SIZE: 12,
      ALT_STRUCT_SIZE: 12,
      ORC_STRUCT_SIZE: 6,
    });
  });

  it.each(CASES.map((c, i) => [c.name, i] as const))('%s', async (_name, index) => {
    const c = CASES[index]!;
    const [origPath, patchedPath] = await Promise.all([
      original(c.object),
      rebuildKernelObject({ buildDir: tree, object: c.object, outDir, label: `case${index}`, edit: c.edit }),
    ]);
    const { report, output } = diffObjects({
      origPath,
      orig: await readFile(origPath),
      patchedPath,
      patched: await readFile(patchedPath),
      parentSymbols: vmlinux,
      structSizes: sizes,
    });
    if (c.expect === 'no-change') {
      expect({ outcome: report.outcome, refusals: report.refusals }).toEqual({
        outcome: 'no-change',
        refusals: [],
      });
      return;
    }
    if ('refused' in c.expect) {
      expect(report.outcome).toBe('refused');
      expect(report.refusals.map((r) => r.kind)).toContain(c.expect.refused);
      return;
    }
    expect(report.refusals).toEqual([]);
    expect(report.changedFunctions.sort()).toEqual(c.expect.changed);
    expect(report.newFunctions.sort()).toEqual(c.expect.added ?? []);
    // The output is a valid object that defines the changed functions and nothing unchanged.
    const reread = parseElf(serializeElf(output!));
    for (const fn of c.expect.changed) {
      const symbol = reread.symbols.find((s) => s.name === fn);
      expect(symbol?.section, fn).toBeDefined();
    }
    const mcount = findSection(reread, '__mcount_loc');
    expect(mcount?.size).toBe(8 * c.expect.changed.length);
    for (const ref of report.externalReferences) {
      expect(ref.candidates, `${ref.name} should exist in vmlinux`).toBeGreaterThan(0);
    }
    expect(report.externalReferences.find((r) => r.name === '__fentry__')).toMatchObject({
      exported: true,
      sympos: 0,
    });
  });
});
