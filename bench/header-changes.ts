/**
 * Header changes on a Debian release without a kernel build: the index parts (configured objects from
 * make's dry run, the include graph) cold and warm, then the two proof patches end to end, each cold
 * (the dry run's cache removed) and warm, with objects indexed / including / pruned / compiled:
 *   npx tsx bench/header-changes.ts [--release=6.1.0-57-amd64]
 * The release must be prepared in the cache already (a kpatch-build run for it does that).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseDryRun } from '../src/kbuild/configured-objects.js';
import { buildIncludeGraph, IncludeScanner, listTreeFiles } from '../src/kbuild/include-graph.js';
import { cachePath } from '../src/source/cache-dir.js';

const args = process.argv.slice(2);
const release = args.find((a) => a.startsWith('--release='))?.slice(10) ?? '6.1.0-57-amd64';
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const PATCHES = new URL('../test/fixtures/patches/', import.meta.url).pathname;
const BIN = new URL('../bin/kpatch-build.js', import.meta.url).pathname;

const tree = cachePath('targets', 'debian', release, 'source');
const dryRunCache = join(tree, '.kpatch-build-configured-objects.json');

let start = performance.now();
const dryRun = await execa('make', ['-C', tree, '-n', '-k', 'vmlinux', 'modules'], {
  reject: false,
  maxBuffer: 2 ** 30, // about 160 MB of recipes for Debian's configuration
});
const objects = parseDryRun(dryRun.stdout);
console.log(`configured objects (make -n): ${objects.length} in ${seconds(performance.now() - start)}`);
start = performance.now();
const graph = await buildIncludeGraph(new IncludeScanner(tree, await listTreeFiles(tree)), objects);
console.log(
  `include graph: ${graph.fileCount} files, ${graph.contexts.length} include contexts in ${seconds(performance.now() - start)}, ` +
    `rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
);

interface Report {
  timings: Record<string, number>;
  headers: { indexed: number; includers: number; pruned: number; compiled: string[] };
}
const out = await mkdtemp(join(tmpdir(), 'bench-headers-'));
try {
  for (const patch of ['debian-proc-header', 'debian-sched-inline']) {
    for (const run of ['cold', 'warm']) {
      if (run === 'cold') await rm(dryRunCache, { force: true });
      start = performance.now();
      const result = await execa(
        'node',
        [BIN, '--distro', 'debian', '-a', release, '-o', out, '--json', `${PATCHES}${patch}.patch`],
        { reject: false },
      );
      const wall = performance.now() - start;
      if (result.exitCode !== 0) throw new Error(`${patch}: exit ${result.exitCode}\n${result.stderr}`);
      const report = JSON.parse(result.stdout) as Report;
      const h = report.headers;
      console.log(
        `${patch} ${run}: ${seconds(wall)} (affected objects ${seconds(report.timings['affected objects'] ?? 0)}); ` +
          `indexed ${h.indexed}, including ${h.includers}, pruned ${h.pruned}, compiled ${h.compiled.length}`,
      );
    }
  }
} finally {
  await rm(out, { recursive: true, force: true });
}
