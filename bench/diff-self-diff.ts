/**
 * Self-diff of every object of the test kernel (create-diff-object on two identical builds): wall time,
 * peak memory, and the per-object time of mm/memory.o.
 *   taskset -c 0,1 node --import tsx bench/diff-self-diff.ts [--workers N]
 * --workers 0 runs on the main thread; the default is one worker per available core.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { SelfDiffResult } from '../src/diff/self-diff.js';
import { selfDiff, treeObjects } from '../src/diff/self-diff.js';
import { prepareTestKernel } from '../src/distro/prepare-test-kernel.js';

const { values } = parseArgs({ options: { workers: { type: 'string' } } });
const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);

async function runSerial(buildDir: string, objects: string[]): Promise<SelfDiffResult[]> {
  const results: SelfDiffResult[] = [];
  for (const object of objects) results.push(await selfDiff(buildDir, object));
  return results;
}

/** Hands objects out one at a time (biggest first), so a slow vmlinux.o does not hold up a batch. */
function runInWorkers(buildDir: string, objects: string[], count: number): Promise<SelfDiffResult[]> {
  const queue = [...objects];
  const results: SelfDiffResult[] = [];
  return new Promise((resolve, reject) => {
    let running = count;
    for (let i = 0; i < count; i++) {
      // Workers do not inherit the tsx loader: register it, then load the TypeScript worker.
      const script = new URL('./diff-self-diff-worker.ts', import.meta.url).href;
      const bootstrap = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(script)}); })`;
      const worker = new Worker(bootstrap, { eval: true, workerData: { buildDir } });
      const next = () => worker.postMessage(queue.shift() ?? null);
      worker.on('message', (result: SelfDiffResult) => {
        results.push(result);
        next();
      });
      worker.on('error', reject);
      worker.on('exit', () => {
        running--;
        if (running === 0) resolve(results);
      });
      next();
    }
  });
}

const { buildDir } = await prepareTestKernel();
const objects = await treeObjects(buildDir);
// vmlinux.o first: it is the longest single job.
objects.sort((a, b) => (a === 'vmlinux.o' ? -1 : b === 'vmlinux.o' ? 1 : 0));

const start = performance.now();
const results =
  workers > 0 ? await runInWorkers(buildDir, objects, workers) : await runSerial(buildDir, objects);
const wallSeconds = (performance.now() - start) / 1000;

const memoryTimes: number[] = [];
for (let i = 0; i < 5; i++) memoryTimes.push((await selfDiff(buildDir, 'mm/memory.o')).milliseconds);
memoryTimes.sort((a, b) => a - b);

const byOutcome: Record<string, number> = {};
for (const r of results) byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
const slowest = [...results].sort((a, b) => b.milliseconds - a.milliseconds).slice(0, 3);
const bad = results.filter((r) => r.outcome !== 'no-change' && r.outcome !== 'skipped');

console.log(`objects: ${results.length} (${JSON.stringify(byOutcome)})`);
console.log(`workers: ${workers}  wall: ${wallSeconds.toFixed(2)} s`);
console.log(`peak RSS (process, all threads): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
console.log(`mm/memory.o self-diff: median ${memoryTimes[2]!.toFixed(1)} ms (of 5)`);
console.log(`slowest: ${slowest.map((r) => `${r.object} ${r.milliseconds.toFixed(0)} ms`).join(', ')}`);
if (bad.length > 0) {
  console.log(
    `NOT CLEAN: ${bad.map((r) => `${r.object}: ${r.outcome} ${r.detail.slice(0, 200)}`).join('\n')}`,
  );
  process.exitCode = 1;
}
