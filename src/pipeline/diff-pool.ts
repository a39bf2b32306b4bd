import { Worker } from 'node:worker_threads';
import type { DiffReport } from '../diff/report.js';
import type { ElfFile } from '../elf/index.js';
import { parseElf } from '../elf/index.js';
import type { ErrorCode } from '../errors.js';
import { KpatchError } from '../errors.js';
import type { DiffContext, DiffJob } from './diff-job.js';

type Reply =
  | { id: number; report: DiffReport; output?: Uint8Array }
  | { id: number; error: string; code: ErrorCode };

/** Workers do not inherit the tsx loader of the bin launchers: each registers it, then loads the worker. */
function startWorker(context: DiffContext): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const script = new URL('./diff-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(script)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: context });
}

/**
 * Diffs the jobs on `threads` worker threads, handing jobs out one at a time; results come back in
 * job order. Objects travel back serialized and are parsed again here.
 */
export async function diffInWorkers(
  jobs: readonly DiffJob[],
  threads: number,
  context: DiffContext,
): Promise<Array<{ report: DiffReport; output: ElfFile | undefined }>> {
  const results: Array<{ report: DiffReport; output: ElfFile | undefined }> = new Array(jobs.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(threads, jobs.length) }, () => startWorker(context));
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= jobs.length) return resolve();
              const id = next++;
              worker.postMessage({ id, job: jobs[id] });
            };
            worker.on('message', (reply: Reply) => {
              if ('error' in reply) {
                reject(new KpatchError(reply.code, reply.error));
                return;
              }
              const output = reply.output ? parseElf(Buffer.from(reply.output)) : undefined;
              results[reply.id] = { report: reply.report, output };
              send();
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (next < jobs.length || code !== 0)
                reject(new KpatchError('internal', `a diff worker exited (${code})`));
            });
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
