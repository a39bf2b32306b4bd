// Holds a cache lock for argv[3] ms, as a build using the entry would; prints "held" once it has it.
import { setTimeout as sleep } from 'node:timers/promises';
import { withLock } from '../../../src/source/lock.js';

await withLock(process.argv[2]!, async () => {
  process.stdout.write('held\n');
  await sleep(Number(process.argv[3]));
});
