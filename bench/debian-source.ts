/**
 * Cold and warm preparation of a Debian release's source tree, phase by phase, then single objects:
 *   npx tsx bench/debian-source.ts [RELEASE] [--cache=DIR]
 * Without --cache the cold run uses an empty temporary CACHEDIR, so it downloads the image, headers and
 * source packages again (~225 MB) and boots the target once for kallsyms; the directory is removed after.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDebianSource, type SourcePhase } from '../src/distro/prepare-debian-source.js';
import { buildSingleObjects } from '../src/kbuild/build-single-objects.js';

const args = process.argv.slice(2);
const release = args.find((a) => !a.startsWith('--')) ?? 'latest';
const given = args.find((a) => a.startsWith('--cache='))?.slice(8);
const cacheDir = given ?? (await mkdtemp(join(tmpdir(), 'kpb-debian-source-')));
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function run(label: string) {
  const phases: [SourcePhase, number][] = [];
  const start = performance.now();
  const source = await prepareDebianSource(release, { cacheDir, onPhase: (p, ms) => phases.push([p, ms]) });
  const total = performance.now() - start;
  console.log(`${label}: ${seconds(total)} (${source.cached ? 'cached' : 'prepared'}) ${source.tree}`);
  for (const [phase, ms] of phases) console.log(`  ${phase.padEnd(13)} ${seconds(ms)}`);
  return source;
}

try {
  const cold = await run(given ? 'first call' : 'cold');
  await run('warm');
  const logFile = join(cold.tree, '..', 'bench-objects.log');
  for (const objects of [['fs/proc/cmdline.o'], ['fs/proc/cmdline.o', 'mm/memory.o']]) {
    for (const o of objects) await rm(join(cold.tree, o), { force: true });
    const start = performance.now();
    await buildSingleObjects(cold.tree, objects, { logFile });
    console.log(`make ${objects.join(' ')}: ${seconds(performance.now() - start)}`);
  }
  const start = performance.now();
  await buildSingleObjects(cold.tree, ['fs/proc/cmdline.o'], { logFile });
  console.log(`make fs/proc/cmdline.o (up to date): ${seconds(performance.now() - start)}`);
} finally {
  if (!given) await rm(cacheDir, { recursive: true, force: true });
}
