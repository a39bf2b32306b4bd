import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheRoot } from '../../../src/source/cache-dir.js';
import { withLock } from '../../../src/source/lock.js';
import { REPO } from './paths.js';

const MIRROR = 'http://deb.debian.org/debian';
const SECURITY = 'http://deb.debian.org/debian-security';
/** The host's CA bundle, passed as the Dockerfile's `cacert` secret for TLS-intercepting proxies. */
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

const imageExists = async (name: string) =>
  (await execa('buildah', ['inspect', '--type', 'image', name], { reject: false })).exitCode === 0;

/**
 * No container registry is reachable here: the Debian slim base image is made from Debian packages
 * (mmdebstrap, cached as a tarball in the cache so it is made once per machine) and imported into the
 * local image store under `localhost/kpatch-build-base:<suite>`.
 */
export async function debianBaseImage(
  suite: string,
  options: { cacheDir?: string; name?: string } = {},
): Promise<string> {
  const name = options.name ?? `localhost/kpatch-build-base:${suite}`;
  const dir = join(options.cacheDir ?? cacheRoot(), 'containers');
  const tarball = join(dir, `debian-${suite}-base.tar`);
  await mkdir(dir, { recursive: true });
  return withLock(join(dir, `.${suite}.lock`), async () => {
    if (!existsSync(tarball)) {
      const partial = `${tarball}.partial`;
      await rm(partial, { force: true });
      try {
        await execa('mmdebstrap', [
          '--variant=apt',
          '--format=tar',
          '--quiet',
          suite,
          partial,
          `deb ${MIRROR} ${suite} main`,
          `deb ${SECURITY} ${suite}-security main`,
        ]);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      await rename(partial, tarball);
    }
    if (!(await imageExists(name))) {
      const ctr = (await execa('buildah', ['from', 'scratch'])).stdout.trim();
      try {
        await execa('buildah', ['add', ctr, tarball, '/']);
        await execa('buildah', ['commit', '--quiet', ctr, name]);
      } finally {
        await execa('buildah', ['rm', ctr], { reject: false });
      }
    }
    return name;
  });
}

/**
 * Builds the repository's Dockerfile on BASE_IMAGE with buildah (chroot isolation). Layers are cached for
 * the next build unless noCache.
 */
export async function buildImage(baseImage: string, tag: string, noCache = false): Promise<void> {
  const secret = existsSync(HOST_CA_BUNDLE) ? ['--secret', `id=cacert,src=${HOST_CA_BUNDLE}`] : [];
  await execa(
    'buildah',
    [
      'bud',
      '--isolation',
      'chroot',
      '--layers',
      // A failed step's working container is removed too: nothing is left behind.
      '--force-rm',
      ...(noCache ? ['--no-cache'] : []),
      ...secret,
      '--build-arg',
      `BASE_IMAGE=${baseImage}`,
      '-t',
      tag,
      REPO,
    ],
    { all: true },
  );
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * `podman run` with runc (crun fails on these machines) and no default ulimits. Host network, pid and
 * uts namespaces: the mounted cache's locks name their holder by pid and host name, so a container
 * sharing the host's cache must see the same ones.
 */
export async function runImage(
  image: string,
  volumes: string[],
  env: Record<string, string>,
  args: string[],
) {
  const conf = join(tmpdir(), 'kpatch-build-containers.conf');
  await writeFile(conf, '[containers]\ndefault_ulimits = []\n');
  const result = await execa(
    'podman',
    [
      'run',
      '--rm',
      '--runtime=runc',
      '--network=host',
      '--pid=host',
      '--uts=host',
      ...volumes.flatMap((v) => ['-v', v]),
      ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      image,
      ...args,
    ],
    { reject: false, env: { CONTAINERS_CONF: conf }, timeout: 20 * 60_000 },
  );
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
  } satisfies RunResult;
}
