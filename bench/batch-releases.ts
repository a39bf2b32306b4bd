/**
 * One fix for every kernel release of a suite, as a maintainer runs it:
 *   npx tsx bench/batch-releases.ts [--suite=bookworm] [--patch=examples/cmdline.patch] [--processes=N]
 *                                   [--no-cold] [--no-user-cache]
 * kpatch-build --distro debian --suite SUITE -a all (amd64):
 * 1. cold: an empty CACHEDIR (every release downloaded, unpacked, prepared, booted once for kallsyms),
 *    then warm on that cache; the disk the cache took (by part: downloads, debs, one target per release);
 *    the cache is removed afterwards;
 * 2. warm on the user's cache (unless --no-user-cache).
 * Each run: wall time, the verdicts and per-release time (--json), and the peak RSS of the largest single
 * process (GNU time's %M: node, or a compiler or qemu it ran). --processes=N runs the batch as N shards
 * (--shard I/N) in N processes at once on the same cache: releases built concurrently on one machine.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const repo = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const suite = option('suite') ?? 'bookworm';
const patch = option('patch') ?? join(repo, 'examples/cmdline.patch');
const processes = Number(option('processes') ?? 1);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface BatchJson {
  built: number;
  total: number;
  releases: { release: string; verdict: string; ms: number }[];
}

interface ShardRun {
  report: BatchJson;
  rssKb: number;
}

async function shard(index: number, out: string, env: Record<string, string>): Promise<ShardRun> {
  const result = await execa(
    '/usr/bin/time',
    [
      '-f',
      'maxrss-kb %M',
      'node',
      join(repo, 'bin/kpatch-build.js'),
      '--distro',
      'debian',
      '--suite',
      suite,
      '-a',
      'all',
      ...(processes > 1 ? ['--shard', `${index}/${processes}`] : []),
      '-o',
      out,
      '--json',
      patch,
    ],
    { env: { ...env, CI: 'true' }, reject: false },
  );
  const rssKb = Number(/maxrss-kb (\d+)/.exec(String(result.stderr))?.[1] ?? 0);
  try {
    return { report: JSON.parse(String(result.stdout)) as BatchJson, rssKb };
  } catch {
    throw new Error(`kpatch-build printed no report (exit ${result.exitCode}):\n${result.stderr}`);
  }
}

async function batch(label: string, env: Record<string, string>): Promise<void> {
  const out = await mkdtemp(join(tmpdir(), 'bench-batch-out-'));
  const started = performance.now();
  const shards = await Promise.all(Array.from({ length: processes }, (_, i) => shard(i + 1, out, env)));
  const wallMs = performance.now() - started;
  await rm(out, { recursive: true, force: true });
  const releases = shards
    .flatMap((s) => s.report.releases)
    .sort((a, b) => a.release.localeCompare(b.release));
  const built = releases.filter((r) => r.verdict === 'built').length;
  const rss = Math.max(...shards.map((s) => s.rssKb));
  console.log(
    `${label}: ${seconds(wallMs)} wall, ${built} of ${releases.length} built, peak RSS ${Math.round(rss / 1024)} MB (largest process), ${processes} process${processes > 1 ? 'es (shards)' : ''}`,
  );
  for (const r of releases) console.log(`  ${r.release.padEnd(18)} ${r.verdict.padEnd(21)} ${seconds(r.ms)}`);
}

async function diskUse(dir: string): Promise<void> {
  const du = async (path: string) => {
    const result = await execa('du', ['-sb', path], { reject: false });
    return Number(String(result.stdout).split('\t')[0] ?? 0);
  };
  const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;
  console.log(`cache disk use: ${gb(await du(dir))} in ${dir}`);
  for (const part of await readdir(dir)) console.log(`  ${part.padEnd(20)} ${gb(await du(join(dir, part)))}`);
  const targets = join(dir, 'targets', 'debian');
  const releases = await readdir(targets).catch(() => [] as string[]);
  for (const release of releases)
    console.log(`  targets/debian/${release.padEnd(16)} ${gb(await du(join(targets, release)))}`);
}

if (!args.includes('--no-cold')) {
  const cache = await mkdtemp(join(tmpdir(), 'bench-batch-cache-'));
  try {
    await batch('cold (empty cache)', { CACHEDIR: cache });
    await diskUse(cache);
    await batch('warm (same cache)', { CACHEDIR: cache });
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
}
if (!args.includes('--no-user-cache')) await batch('warm (user cache)', {});
