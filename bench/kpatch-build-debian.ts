/**
 * kpatch-build for Debian's kernel, the whole flow as a user runs it:
 *   npx tsx bench/kpatch-build-debian.ts [--release=REL] [--no-cold] [--no-estimate] [--sample=N]
 * (Debian 13 from a bookworm host: --release=6.12.118+deb13-amd64 --no-estimate; its cold run includes
 * creating the trixie build root, and the estimate's host make cannot run gcc-14.)
 * 1. cold: an empty CACHEDIR, so everything is downloaded (~225 MB), unpacked, prepared and the target
 *    booted once for its kallsyms; 2. warm: the same again on that cache (and once more on the user's
 *    cache); each with wall time, phases (kpatch-build --json timings) and the peak RSS of the largest
 *    process (GNU time: node or a compiler). 3. The full build kpatch-build would do instead, estimated:
 *    kbuild's dry run counts the compiles of vmlinux and modules in this config, and N of them, spread
 *    over the list, are compiled for real to get a mean time per object (on all cores).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { prepareDebianSource } from '../src/distro/prepare-debian-source.js';
import { withLock } from '../src/source/lock.js';

const repo = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const release = option('release') ?? 'latest';
const sample = Number(option('sample') ?? 16);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Run {
  wallMs: number;
  peakRssMb: number;
  timings: Record<string, number>;
}

async function kpatchBuild(label: string, env: Record<string, string>): Promise<Run> {
  const out = await mkdtemp(join(tmpdir(), 'bench-kpb-debian-'));
  const started = performance.now();
  const result = await execa(
    '/usr/bin/time',
    [
      '-f',
      'maxrss-kb %M',
      'node',
      join(repo, 'bin/kpatch-build.js'),
      '--distro',
      'debian',
      '-a',
      release,
      '-o',
      out,
      '--json',
      join(repo, 'examples/cmdline.patch'),
    ],
    { env: { ...env, CI: 'true' }, reject: false },
  );
  const wallMs = performance.now() - started;
  await rm(out, { recursive: true, force: true });
  if (result.exitCode !== 0) throw new Error(`${label}: kpatch-build failed:\n${result.stderr}`);
  const rss = Number(/maxrss-kb (\d+)/.exec(String(result.stderr))?.[1] ?? 0);
  const { timings } = JSON.parse(String(result.stdout)) as { timings: Record<string, number> };
  const run = { wallMs, peakRssMb: Math.round(rss / 1024), timings };
  console.log(`${label}: ${seconds(wallMs)}, peak RSS ${run.peakRssMb} MB`);
  for (const [phase, ms] of Object.entries(timings))
    if (ms >= 50) console.log(`  ${phase.padEnd(22)} ${seconds(ms)}`);
  return run;
}

/** The compile commands kbuild would run for vmlinux and modules in this tree's config. */
async function dryRunObjects(tree: string): Promise<string[]> {
  const result = await execa('make', ['-n', 'vmlinux', 'modules'], { cwd: tree, reject: false, all: true });
  const objects = new Set<string>();
  for (const m of String(result.all).matchAll(/ -c -o (\S+\.o) /g)) {
    const object = m[1]!;
    if (!object.startsWith('scripts/') && !object.endsWith('.mod.o')) objects.add(object);
  }
  return [...objects];
}

if (!args.includes('--no-cold')) {
  const cache = await mkdtemp(join(tmpdir(), 'bench-kpb-cache-'));
  try {
    await kpatchBuild('cold (empty cache)', { CACHEDIR: cache });
    await kpatchBuild('warm (same cache)', { CACHEDIR: cache });
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
}
await kpatchBuild('warm (user cache)', {});

if (!args.includes('--no-estimate')) await estimateFullBuild();

async function estimateFullBuild(): Promise<void> {
  const { tree } = await prepareDebianSource(release);
  await withLock(join(tree, '.kpatch-build.lock'), async () => {
    const started = performance.now();
    const objects = await dryRunObjects(tree);
    console.log(
      `full build: ${objects.length} objects to compile (kbuild dry run, ${seconds(performance.now() - started)})`,
    );
    const chosen = objects
      .filter((_, i) => i % Math.max(1, Math.floor(objects.length / sample)) === 0)
      .slice(0, sample);
    const jobs = availableParallelism();
    // Compiled on all cores as a full build would; the objects are removed first so they really compile.
    await execa('rm', ['-f', ...chosen], { cwd: tree });
    const compileStart = performance.now();
    await execa('make', [`-j${jobs}`, ...chosen], { cwd: tree, reject: false });
    const perObjectMs = ((performance.now() - compileStart) * jobs) / chosen.length;
    const estimateMs = (objects.length * perObjectMs) / jobs;
    console.log(
      `  sample: ${chosen.length} objects, ${seconds(perObjectMs)} per object per core; estimated full build on ${jobs} cores: ${(estimateMs / 3_600_000).toFixed(1)} h`,
    );
  });
}
