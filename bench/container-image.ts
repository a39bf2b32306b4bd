/**
 * How long the container image takes to make, as the e2e test makes it (buildah, chroot isolation):
 *   node --import tsx bench/container-image.ts [SUITE]
 * cold: an empty cache dir, so the Debian base image is made by mmdebstrap and imported, then every
 * Dockerfile step runs; base cached: every Dockerfile step runs on the cached base; layers cached: the
 * e2e test's usual rebuild. Then one `kpatch-build --version` run in the image (podman, runc).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { buildImage, debianBaseImage, runImage } from '../test/e2e/support/container-image.js';

const suite = process.argv[2] ?? 'bookworm';
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
async function timed<T>(label: string, job: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await job();
  console.log(`${label.padEnd(34)} ${seconds(performance.now() - start)}`);
  return result;
}

const cacheDir = await mkdtemp(join(tmpdir(), 'kpb-bench-container-'));
const coldBase = `localhost/kpatch-build-bench-base:${suite}-${process.pid}`;
const coldImage = `localhost/kpatch-build-bench:${process.pid}`;
try {
  const base = await timed('cold: base image (mmdebstrap+import)', () =>
    debianBaseImage(suite, { cacheDir, name: coldBase }),
  );
  await timed('cold: image build (every step)', () => buildImage(base, coldImage, true));
  const cachedBase = await debianBaseImage(suite);
  await timed('base cached: image build', () => buildImage(cachedBase, coldImage, true));
  await timed('layers cached: image build', () => buildImage(cachedBase, coldImage));
  await timed('run: kpatch-build --version', () => runImage(coldImage, [], {}, ['--version']));
  const size = (await execa('buildah', ['images', '--format', '{{.Size}}', coldImage])).stdout.split('\n')[0];
  console.log(`image size                         ${size}`);
} finally {
  await execa('buildah', ['rmi', coldImage, coldBase], { reject: false });
  await rm(cacheDir, { recursive: true, force: true });
}
