/**
 * The unpacked source of a Debian kernel release in <cache>/targets/debian/<release>/:
 *   source/          linux-source-<series>'s tarball, unpacked (the kbuild recipe then configures it)
 *   source.json      the stamp: the source package, its version and SHA256; `key` once prepared for kbuild
 *   source.manifest  every unpacked file and its size (cache-manifest.ts): a damaged tree is unpacked again
 *   .source.lock     held while unpacking or preparing
 * The source package must be the very build the image came from (the same Debian package version).
 */
import { access, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DistroError } from '../errors.js';
import { checkTreeManifest, damagedMessage, writeTreeManifest } from '../source/cache-manifest.js';
import { extractDeb } from '../source/deb.js';
import type { PackageProgress } from '../source/fetch-packages.js';
import { withLock } from '../source/lock.js';
import { unpackTarball } from '../source/unpack-tarball.js';
import { debianLayout } from './debian-layout.js';
import type { PreparePhase } from './distro-adapter.js';
import { fetchDebianPackages } from './fetch-debian-packages.js';
import type { TargetKernel } from './target.js';

// Bump when the way the tree is prepared changes: it is part of the stamp.
export const SOURCE_FORMAT = 1;

export interface SourceStamp {
  format: number;
  release: string;
  sourcePackage: string;
  packageVersion: string;
  sourceSha256: string;
  /** Set once configured and prepared (debian-kbuild.ts); absent when only the unpack finished. */
  key?: string;
}

/** The files of a release's source entry. */
export function debianSourcePaths(dir: string) {
  return {
    tree: join(dir, 'source'),
    stamp: join(dir, 'source.json'),
    manifest: join(dir, 'source.manifest'),
    lock: join(dir, '.source.lock'),
    log: join(dir, 'source-build.log'),
  };
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

export async function readSourceStamp(file: string): Promise<SourceStamp | undefined> {
  try {
    const stamp = JSON.parse(await readFile(file, 'utf8')) as SourceStamp;
    return stamp.format === SOURCE_FORMAT ? stamp : undefined;
  } catch {
    return undefined;
  }
}

export async function writeSourceStamp(file: string, stamp: SourceStamp): Promise<void> {
  await writeFile(file, `${JSON.stringify(stamp, null, 2)}\n`);
}

/** The source package must be the very build the target's image came from. */
export function checkSourceVersion(
  target: Pick<TargetKernel, 'release' | 'packageVersion'>,
  source: { package: string; version: string },
): void {
  if (source.version === target.packageVersion) return;
  throw new DistroError(
    `${source.package} ${source.version} does not match ${target.release} (built from ${target.packageVersion})`,
    {
      hint:
        `the Debian mirror only offers the newest ${source.package}; objects compiled from it would not ` +
        `match ${target.release}. Use --target debian:latest, or run apt-get update if the mirror lists are stale`,
    },
  );
}

/**
 * A tree prepared before manifests existed gets one on first use, under the lock: its files older than
 * .kernelvariables (written after unpacking, before any make) are the archive's. Damage from before
 * this first use cannot be told; damage after it can.
 */
async function adoptUnlistedTree(paths: ReturnType<typeof debianSourcePaths>, signalOpt: object) {
  if (await exists(paths.manifest)) return;
  await withLock(
    paths.lock,
    async () => {
      if ((await checkTreeManifest(paths.tree, paths.manifest)).state !== 'unknown') return;
      const configured = await stat(join(paths.tree, '.kernelvariables')).catch(() => undefined);
      if (configured) await writeTreeManifest(paths.tree, paths.manifest, configured.mtimeMs);
    },
    signalOpt,
  );
}

export interface UnpackOptions {
  cacheDir: string;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  onDownload?: (progress: PackageProgress) => void;
  onPhase?: (phase: PreparePhase, ms: number) => void;
}

/**
 * Unpacks linux-source-<series> of `target`'s package version into `dir`/source once; a tree whose
 * manifest finds it damaged (a file missing or of another size) is said so and unpacked again. Returns
 * whether it was unpacked already.
 */
export async function unpackDebianSource(
  target: Pick<TargetKernel, 'release' | 'packageVersion'>,
  dir: string,
  options: UnpackOptions,
): Promise<boolean> {
  const paths = debianSourcePaths(dir);
  const signalOpt = options.signal ? { signal: options.signal } : {};
  const progress = options.onProgress ?? (() => {});
  const timed = async <T>(name: 'fetch' | 'unpack', fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      options.onPhase?.(name, performance.now() - start);
    }
  };
  const unpacked = async (stamp: SourceStamp | undefined) =>
    stamp?.packageVersion === target.packageVersion && (await exists(join(paths.tree, 'Makefile')));
  if (
    (await unpacked(await readSourceStamp(paths.stamp))) &&
    (await checkTreeManifest(paths.tree, paths.manifest)).state !== 'damaged'
  ) {
    await adoptUnlistedTree(paths, signalOpt);
    return true;
  }
  await mkdir(dir, { recursive: true });
  return withLock(
    paths.lock,
    async () => {
      const check = await checkTreeManifest(paths.tree, paths.manifest);
      if (check.state === 'damaged') {
        progress(damagedMessage(paths.tree, check.problems, 're-fetching and re-preparing it'));
      } else if (await unpacked(await readSourceStamp(paths.stamp))) {
        return true;
      }
      const layout = debianLayout(target.release);
      progress(`downloading ${layout.sourcePackage}`);
      const [deb] = await timed('fetch', () =>
        fetchDebianPackages([`${layout.sourcePackage}=${target.packageVersion}`], {
          cacheDir: options.cacheDir,
          ...signalOpt,
          ...(options.onDownload ? { onProgress: options.onDownload } : {}),
        }),
      );
      if (!deb) throw new DistroError(`${layout.sourcePackage} was not downloaded`);
      checkSourceVersion(target, deb);
      progress(`unpacking ${layout.sourcePackage} ${deb.version}`);
      await rm(paths.stamp, { force: true });
      await rm(paths.manifest, { force: true });
      await timed('unpack', async () => {
        const staging = join(dir, 'source-deb');
        await rm(staging, { recursive: true, force: true });
        await extractDeb(deb.path, staging, {
          filter: [layout.paths.sourceTarball],
          replace: true,
          ...signalOpt,
        });
        await unpackTarball(join(staging, layout.paths.sourceTarball), paths.tree, {
          strip: 1,
          replace: true,
          ...signalOpt,
        });
        await rm(staging, { recursive: true, force: true });
        await writeTreeManifest(paths.tree, paths.manifest);
      });
      await writeSourceStamp(paths.stamp, {
        format: SOURCE_FORMAT,
        release: target.release,
        sourcePackage: layout.sourcePackage,
        packageVersion: deb.version,
        sourceSha256: deb.sha256,
      });
      return false;
    },
    signalOpt,
  );
}
