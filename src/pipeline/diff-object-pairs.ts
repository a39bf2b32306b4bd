import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { diffObjects } from '../diff/create-diff-object.js';
import type { ParentSymbols } from '../diff/parent-symbols.js';
import { loadKallsymsParentSymbols, loadParentSymbols } from '../diff/parent-symbols.js';
import type { DiffReport } from '../diff/report.js';
import type { StructSizes } from '../diff/struct-sizes.js';
import type { ElfFile } from '../elf/index.js';
import { NoChangeError, UnsupportedChangeError } from '../errors.js';
import type { ObjectPair } from './build-objects.js';

export interface ChangedObject {
  pair: ObjectPair;
  /** "vmlinux" or the module name. */
  parent: string;
  report: DiffReport;
  output: ElfFile;
  parentSymbols: ParentSymbols;
}

export interface DiffPairsOptions {
  pairs: readonly ObjectPair[];
  /** The kernel tree: module paths of object parents are relative to it. */
  tree: string;
  /** vmlinux's symbols: an unstripped vmlinux, or a kallsyms dump / System.map. */
  vmlinuxSymbols: { format: 'elf' | 'kallsyms'; path: string };
  moduleSymvers: string;
  structSizes?: StructSizes;
}

/**
 * Diffs every object pair. Objects without a functional change are dropped; if none is left the build
 * ends with "no functional change". Every refusal of every object is reported together.
 */
export async function diffObjectPairs(options: DiffPairsOptions): Promise<ChangedObject[]> {
  const symbolsByParent = new Map<string, Promise<ParentSymbols>>();
  const parentSymbols = (name: string, file: string) => {
    let loading = symbolsByParent.get(name);
    if (!loading) {
      loading =
        name === 'vmlinux' && options.vmlinuxSymbols.format === 'kallsyms'
          ? loadKallsymsParentSymbols(file, options.moduleSymvers)
          : loadParentSymbols(file, name, options.moduleSymvers);
      symbolsByParent.set(name, loading);
    }
    return loading;
  };
  const changed: ChangedObject[] = [];
  const refusals: string[] = [];
  for (const pair of options.pairs) {
    const parentInfo = pair.object.parent;
    if (parentInfo.kind === 'none') {
      throw new UnsupportedChangeError(`${pair.object.target} is linked into neither vmlinux nor a module`, {
        hint: 'boot, vDSO and host-tool code cannot be livepatched',
      });
    }
    const parent = parentInfo.name;
    const symbols = await parentSymbols(
      parent,
      parentInfo.kind === 'module' ? resolve(options.tree, parentInfo.path) : options.vmlinuxSymbols.path,
    );
    const { report, output } = diffObjects({
      origPath: pair.orig.output,
      orig: await readFile(pair.orig.output),
      patchedPath: pair.patched.output,
      patched: await readFile(pair.patched.output),
      parent,
      parentSymbols: symbols,
      ...(options.structSizes ? { structSizes: options.structSizes } : {}),
    });
    for (const r of report.refusals)
      refusals.push(`${pair.object.target}: ${r.where}: ${r.message} (${r.hint})`);
    if (report.outcome === 'changed' && output)
      changed.push({ pair, parent, report, output, parentSymbols: symbols });
  }
  if (refusals.length > 0) {
    throw new UnsupportedChangeError(`the patch cannot be livepatched:\n  ${refusals.join('\n  ')}`, {
      hint: 'docs/patch-author-guide.md explains each refusal and what to do instead',
    });
  }
  if (changed.length === 0) {
    throw new NoChangeError('no functional changes found', {
      hint: 'the patch changes nothing the compiler emits (comments, line numbers, unused code)',
    });
  }
  return changed;
}
