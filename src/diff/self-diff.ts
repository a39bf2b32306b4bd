import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ELFCLASS32 } from '../elf/index.js';
import { diffObjects } from './create-diff-object.js';

/** The outcome of diffing one object against itself: anything but 'no-change' is a bug. */
export interface SelfDiffResult {
  object: string;
  outcome: 'no-change' | 'changed' | 'refused' | 'error' | 'skipped';
  detail: string;
  milliseconds: number;
}

/** Every kbuild-built object of a tree (it has a `.<name>.o.cmd` next to it), relative to the tree. */
export async function treeObjects(buildDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    const names = new Set(entries.map((e) => e.name));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '.git' && entry.name !== 'tools') await walk(path);
      } else if (entry.name.endsWith('.o') && names.has(`.${entry.name}.cmd`)) {
        found.push(relative(buildDir, path));
      }
    }
  };
  await walk(buildDir);
  return found.sort();
}

/** Diffs `path` against itself, as create-diff-object would with two identical builds. */
export async function selfDiff(buildDir: string, object: string): Promise<SelfDiffResult> {
  const start = performance.now();
  try {
    const bytes = await readFile(join(buildDir, object));
    // Real-mode boot code (arch/x86/boot, realmode) is ELF32: never part of vmlinux, never livepatched.
    if (bytes[4] === ELFCLASS32) {
      return {
        object,
        outcome: 'skipped',
        detail: 'ELF32 boot code',
        milliseconds: performance.now() - start,
      };
    }
    const { report } = diffObjects({ origPath: object, orig: bytes, patchedPath: object, patched: bytes });
    const detail =
      report.outcome === 'refused'
        ? report.refusals.map((r) => r.message).join('; ')
        : [...report.changedFunctions, ...report.newFunctions, ...report.newData].join(', ');
    return { object, outcome: report.outcome, detail, milliseconds: performance.now() - start };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { object, outcome: 'error', detail, milliseconds: performance.now() - start };
  }
}
