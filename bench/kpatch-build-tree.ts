// kpatch-build -s on the test kernel with examples/cmdline.patch, phase by phase, against the physical
// limit measured in the same run: compiling the changed translation unit twice plus building the module.
//   node --import tsx bench/kpatch-build-tree.ts [RUNS]
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareTestKernel } from '../src/distro/prepare-test-kernel.js';
import { compileObject } from '../src/kbuild/compile-object.js';
import { buildKbuildIndex } from '../src/kbuild/kbuild-index.js';
import { runMake } from '../src/kbuild/run-make.js';
import { buildContext } from '../src/pipeline/build-context.js';
import { kpatchBuild } from '../src/pipeline/kpatch-build.js';

const repo = fileURLToPath(new URL('../', import.meta.url));
const runs = Number(process.argv[2] ?? 3);
const target = await prepareTestKernel();
const tree = target.sourceDir!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const totals: number[] = [];
const limits: number[] = [];
const phases = new Map<string, number[]>();
for (let run = 0; run < runs; run++) {
  const out = await mkdtemp(join(tmpdir(), 'bench-kpb-'));
  const started = performance.now();
  const result = await kpatchBuild(
    { kind: 'tree', sourceDir: tree },
    {
      patches: [join(repo, 'examples/cmdline.patch')],
      name: 'livepatch-cmdline',
      outputDir: out,
      replace: true,
      skipCleanup: false,
      allowFuzz: false,
      skipCompilerCheck: false,
      keepWorkDir: true,
    },
    buildContext(),
  );
  totals.push(performance.now() - started);
  for (const [phase, ms] of Object.entries(result.timings))
    phases.set(phase, [...(phases.get(phase) ?? []), ms]);

  // The limit: the same translation unit compiled twice, and the same module directory built once.
  const index = await buildKbuildIndex(tree);
  const object = index.objects.get('fs/proc/cmdline.o')!;
  const limitStart = performance.now();
  await compileObject({ tree, object, workDir: join(out, 'limit-a') });
  await compileObject({ tree, object, workDir: join(out, 'limit-b') });
  // A clean copy of the generated sources, so make builds the module from scratch.
  const clean = join(out, 'limit-module');
  await cp(`${result.workDir}/module`, clean, {
    recursive: true,
    filter: (src) =>
      !/\.(o|ko|mod|cmd|mod\.c|symvers|order)$|\/\.[^/]*\.cmd$/.test(src) || src.endsWith('_shipped'),
  });
  await runMake({
    dir: tree,
    args: [`M=${clean}`, 'KBUILD_MODPOST_WARN=1', 'modules'],
    logFile: join(out, 'limit.log'),
    what: 'limit',
  });
  limits.push(performance.now() - limitStart);
  await rm(out, { recursive: true, force: true });
  if (result.workDir) await rm(result.workDir, { recursive: true, force: true });
}
for (const [phase, values] of phases)
  process.stdout.write(`${phase.padEnd(20)} ${seconds(median(values)).padStart(9)}\n`);
process.stdout.write(`${'total'.padEnd(20)} ${seconds(median(totals)).padStart(9)}   (median of ${runs})\n`);
process.stdout.write(
  `${'physical limit'.padEnd(20)} ${seconds(median(limits)).padStart(9)}   (2 compiles + module build)\n`,
);
process.stdout.write(`ratio total/limit: ${(median(totals) / median(limits)).toFixed(2)} (goal <= 2)\n`);
