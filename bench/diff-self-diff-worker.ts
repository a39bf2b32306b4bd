// Worker for bench/diff-self-diff.ts: self-diffs the objects it is sent, one message per object.
import { parentPort, workerData } from 'node:worker_threads';
import { selfDiff } from '../src/diff/self-diff.js';

const { buildDir } = workerData as { buildDir: string };
parentPort!.on('message', async (object: string | null) => {
  if (object === null) {
    parentPort!.close();
    return;
  }
  parentPort!.postMessage(await selfDiff(buildDir, object));
});
