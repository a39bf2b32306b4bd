import { readFile } from 'node:fs/promises';
import { diffObjects } from '../diff/create-diff-object.js';
import type { ParentSymbols } from '../diff/parent-symbols.js';
import { loadKallsymsParentSymbols, loadParentSymbols } from '../diff/parent-symbols.js';
import type { DiffReport } from '../diff/report.js';
import type { StructSizes } from '../diff/struct-sizes.js';
import type { ElfFile } from '../elf/index.js';

/** Where the parents' symbols come from: the same for every object of one build. */
export interface DiffContext {
  /** vmlinux's symbols: an unstripped vmlinux, or a kallsyms dump / System.map. */
  vmlinuxSymbols: { format: 'elf' | 'kallsyms'; path: string };
  moduleSymvers: string;
  structSizes?: StructSizes;
}

/** One object to diff. */
export interface DiffJob {
  origPath: string;
  patchedPath: string;
  /** "vmlinux" or the module name. */
  parent: string;
  /** The parent's symbols: vmlinux's source, or the module's .ko. */
  parentPath: string;
}

/** Loads each parent's symbols once (per thread), however many objects belong to it. */
export function parentSymbolsCache(context: DiffContext) {
  const byParent = new Map<string, Promise<ParentSymbols>>();
  return (parent: string, path: string): Promise<ParentSymbols> => {
    let loading = byParent.get(parent);
    if (!loading) {
      loading =
        parent === 'vmlinux' && context.vmlinuxSymbols.format === 'kallsyms'
          ? loadKallsymsParentSymbols(path, context.moduleSymvers)
          : loadParentSymbols(path, parent, context.moduleSymvers);
      byParent.set(parent, loading);
    }
    return loading;
  };
}

/** Runs create-diff-object's steps on one pair, with its parent's symbols. */
export async function runDiffJob(
  job: DiffJob,
  symbols: ParentSymbols,
  structSizes: StructSizes | undefined,
): Promise<{ report: DiffReport; output: ElfFile | undefined }> {
  return diffObjects({
    origPath: job.origPath,
    orig: await readFile(job.origPath),
    patchedPath: job.patchedPath,
    patched: await readFile(job.patchedPath),
    parent: job.parent,
    parentSymbols: symbols,
    ...(structSizes ? { structSizes } : {}),
  });
}
