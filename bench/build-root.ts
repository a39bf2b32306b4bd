/**
 * A build root's cost: creation (mmdebstrap, cold), the warm lookup, and entering it per command:
 *   npx tsx bench/build-root.ts [--suite=trixie] [--compiler=gcc-14=14.2.0-19] [--cache=DIR]
 * Without --cache the cold run uses an empty temporary cache, removed afterwards (about 410 MB).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { buildRootToolchain, ensureBuildRoot } from '../src/kbuild/build-root.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const [compilerPackage = 'gcc-14', compilerVersion = '14.2.0-19'] = option(
  'compiler',
  'gcc-14=14.2.0-19',
).split('=');
const spec = { suite: option('suite', 'trixie'), compilerPackage, compilerVersion };
const given = args.find((a) => a.startsWith('--cache='))?.slice(8);
const cacheDir = given ?? (await mkdtemp(join(tmpdir(), 'kpb-build-root-')));
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

try {
  let start = performance.now();
  const root = await ensureBuildRoot(spec, { cacheDir });
  console.log(`${root.cached ? 'cached' : 'created'}: ${seconds(performance.now() - start)} ${root.root}`);
  const { stdout } = await execa('du', ['-sh', root.root]);
  console.log(`size: ${stdout.split('\t')[0]}`);
  start = performance.now();
  await ensureBuildRoot(spec, { cacheDir });
  console.log(`warm lookup: ${seconds(performance.now() - start)}`);
  const toolchain = buildRootToolchain(root, [cacheDir]);
  const runs = 20;
  start = performance.now();
  for (let i = 0; i < runs; i++) {
    const run = toolchain.command({ file: 'true', args: [], cwd: cacheDir });
    await execa(run.file, run.args);
  }
  console.log(`enter + run true: ${((performance.now() - start) / runs).toFixed(1)} ms per command`);
  start = performance.now();
  for (let i = 0; i < runs; i++) await execa('true');
  console.log(`host true: ${((performance.now() - start) / runs).toFixed(1)} ms per command`);
} finally {
  if (!given) await rm(cacheDir, { recursive: true, force: true });
}
