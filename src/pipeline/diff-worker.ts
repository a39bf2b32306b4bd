// Worker thread of the diff pool (diff-pool.ts): diffs the pairs it is sent, one reply per pair.
import { parentPort, workerData } from 'node:worker_threads';
import { serializeElf } from '../elf/index.js';
import { isKpatchError } from '../errors.js';
import type { DiffContext, DiffJob } from './diff-job.js';
import { parentSymbolsCache, runDiffJob } from './diff-job.js';

const context = workerData as DiffContext;
const symbols = parentSymbolsCache(context);

parentPort?.on('message', async ({ id, job }: { id: number; job: DiffJob }) => {
  try {
    const { report, output } = await runDiffJob(
      job,
      await symbols(job.parent, job.parentPath),
      context.structSizes,
    );
    const bytes = output ? serializeElf(output) : undefined;
    // Copied, not transferred: a Buffer may be a view into a shared pool.
    parentPort?.postMessage({ id, report, output: bytes });
  } catch (error) {
    const code = isKpatchError(error) ? error.code : 'internal';
    parentPort?.postMessage({ id, code, error: error instanceof Error ? error.message : String(error) });
  }
});
