import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { ParentSymbols } from '../diff/parent-symbols.js';
import type { DiffReport } from '../diff/report.js';
import type { ElfFile } from '../elf/index.js';
import { NoChangeError, UnsupportedChangeError } from '../errors.js';
import type { ObjectPair } from './build-objects.js';
import type { DiffContext, DiffJob } from './diff-job.js';
import { parentSymbolsCache, runDiffJob } from './diff-job.js';
import { diffInWorkers } from './diff-pool.js';

export interface ChangedObject {
  pair: ObjectPair;
  /** "vmlinux" or the module name. */
  parent: string;
  report: DiffReport;
  output: ElfFile;
  parentSymbols: ParentSymbols;
}

export interface DiffPairsOptions extends DiffContext {
  pairs: readonly ObjectPair[];
  /** The kernel tree: module paths of object parents are relative to it. */
  tree: string;
  /** Diff threads; several pairs are diffed on worker threads when this is over 1. */
  threads?: number;
}

// Below this many pairs, starting workers (each loads the parent's symbols) costs more than it saves.
const MIN_PAIRS_FOR_WORKERS = 4;

function jobFor(pair: ObjectPair, options: DiffPairsOptions): DiffJob {
  const parentInfo = pair.object.parent;
  if (parentInfo.kind === 'none') {
    throw new UnsupportedChangeError(`${pair.object.target} is linked into neither vmlinux nor a module`, {
      hint: 'boot, vDSO and host-tool code cannot be livepatched',
    });
  }
  return {
    origPath: pair.orig.output,
    patchedPath: pair.patched.output,
    parent: parentInfo.name,
    parentPath:
      parentInfo.kind === 'module' ? resolve(options.tree, parentInfo.path) : options.vmlinuxSymbols.path,
  };
}

/**
 * Diffs every object pair, on worker threads when there are several. Objects without a functional
 * change are dropped; if none is left the build ends with "no functional change". Every refusal of
 * every object is reported together.
 */
export async function diffObjectPairs(options: DiffPairsOptions): Promise<ChangedObject[]> {
  const jobs = options.pairs.map((pair) => jobFor(pair, options));
  const symbols = parentSymbolsCache(options);
  const threads = Math.min(options.threads ?? availableParallelism(), jobs.length);
  const results =
    threads > 1 && jobs.length >= MIN_PAIRS_FOR_WORKERS
      ? await diffInWorkers(jobs, threads, {
          vmlinuxSymbols: options.vmlinuxSymbols,
          moduleSymvers: options.moduleSymvers,
          ...(options.structSizes ? { structSizes: options.structSizes } : {}),
        })
      : await Promise.all(
          jobs.map(async (job) =>
            runDiffJob(job, await symbols(job.parent, job.parentPath), options.structSizes),
          ),
        );
  const changed: ChangedObject[] = [];
  const refusals: string[] = [];
  for (const [i, { report, output }] of results.entries()) {
    const pair = options.pairs[i]!;
    const job = jobs[i]!;
    for (const r of report.refusals)
      refusals.push(`${pair.object.target}: ${r.where}: ${r.message} (${r.hint})`);
    if (report.outcome === 'changed' && output) {
      const parentSymbols = await symbols(job.parent, job.parentPath);
      changed.push({ pair, parent: job.parent, report, output, parentSymbols });
    }
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
