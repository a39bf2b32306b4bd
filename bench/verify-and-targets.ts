// Prints how long the target kernels and klp-verify take.
//   node --import tsx bench/verify-and-targets.ts          warm numbers (uses the normal cache)
//   node --import tsx bench/verify-and-targets.ts --cold   also cold: an empty cache dir (downloads, test-kernel build)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareDebianTarget } from '../src/distro/prepare-debian-target.js';
import { prepareTestKernel } from '../src/distro/prepare-test-kernel.js';
import { buildExternalModule } from '../src/kbuild/build-external-module.js';
import { verifyLivepatch } from '../src/verify/verify-livepatch.js';

const repo = fileURLToPath(new URL('../', import.meta.url));
const cold = process.argv.includes('--cold');

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const value = await fn();
  const seconds = ((performance.now() - start) / 1000).toFixed(2);
  process.stdout.write(
    `${label.padEnd(58)} ${seconds.padStart(8)} s   (rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)\n`,
  );
  return value;
}

async function verifySample(cacheDir: string | undefined, which: 'debian' | 'test') {
  const opts = cacheDir ? { cacheDir } : {};
  const target = await timed(`${which}: prepare target (${cacheDir ? 'cold cache' : 'warm cache'})`, () =>
    which === 'debian' ? prepareDebianTarget('latest', opts) : prepareTestKernel(opts),
  );
  const work = await mkdtemp(join(tmpdir(), 'bench-verify-'));
  const [ko] = await timed(`${which}: build example module against the target`, () =>
    buildExternalModule({ sourceDir: join(repo, 'examples/livepatch-sample'), workDir: work, target }),
  );
  const result = await timed(`${which}: klp-verify (boot, load, check, unload)`, () =>
    verifyLivepatch({
      kernel: target.image,
      modules: [ko!],
      checks: ['grep -q "served by a livepatch" /proc/cmdline'],
      unload: true,
    }),
  );
  if (!result.ok)
    throw new Error(`verification failed: ${JSON.stringify(result.steps.filter((s) => !s.ok))}`);
  await rm(work, { recursive: true, force: true });
}

if (cold) {
  const coldCache = await mkdtemp(join(tmpdir(), 'bench-cold-cache-'));
  await verifySample(coldCache, 'debian');
  await verifySample(coldCache, 'test');
  await timed('test: prepare target again (cached: no rebuild)', () =>
    prepareTestKernel({ cacheDir: coldCache }),
  );
  await rm(coldCache, { recursive: true, force: true });
}
await verifySample(undefined, 'debian');
await verifySample(undefined, 'test');
