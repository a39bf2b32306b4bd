/**
 * Speed of the -s front half on the cached test kernel (read-only; compiles into a temp dir):
 *   node --import tsx bench/patch-affected.ts [RUNS]
 * Index the tree's .cmd files, answer an affected-objects query, compile fs/proc/cmdline.o with
 * function sections.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareTestKernel } from '../src/distro/prepare-test-kernel.js';
import { compileObject } from '../src/kbuild/compile-object.js';
import { findAffectedObjects } from '../src/kbuild/find-affected-objects.js';
import { buildKbuildIndex } from '../src/kbuild/kbuild-index.js';
import { createParentResolver } from '../src/kbuild/object-parent.js';

const runs = Number(process.argv[2] ?? 5);
const tree = (await prepareTestKernel()).sourceDir!;

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

function summary(label: string, samples: number[], extra = ''): void {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(
    `${label.padEnd(44)} median ${median.toFixed(1).padStart(7)} ms  min ${sorted[0]!.toFixed(1)} ms ${extra}`,
  );
}

const indexTimes: number[] = [];
const queryTimes: number[] = [];
const wideTimes: number[] = [];
const compileTimes: number[] = [];
let stats = '';
const work = await mkdtemp(join(tmpdir(), 'kpatch-bench-'));
try {
  for (let i = 0; i < runs; i++) {
    const built = await time(async () => {
      const index = await buildKbuildIndex(tree);
      return { index, parents: await createParentResolver(index) };
    });
    indexTimes.push(built.ms);
    const { index, parents } = built.value;
    stats = `(${index.cmdFileCount} .cmd files, ${index.objects.size} objects, ${index.dependents.size} input files)`;
    queryTimes.push((await time(async () => findAffectedObjects(index, parents, ['fs/proc/cmdline.c']))).ms);
    wideTimes.push((await time(async () => findAffectedObjects(index, parents, ['include/linux/fs.h']))).ms);
    const object = index.objects.get('fs/proc/cmdline.o')!;
    compileTimes.push((await time(() => compileObject({ tree, object, workDir: join(work, String(i)) }))).ms);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
console.log(`test kernel: ${tree}, ${runs} runs`);
summary('index .cmd files + module/archive records', indexTimes, stats);
summary('query fs/proc/cmdline.c', queryTimes);
summary('query include/linux/fs.h (+ parents)', wideTimes);
summary('compile fs/proc/cmdline.o -ffunction-sections', compileTimes);
