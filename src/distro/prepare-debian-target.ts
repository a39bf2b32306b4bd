import { access, mkdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { DistroError } from '../errors.js';
import { cacheRoot } from '../source/cache-dir.js';
import { extractDebs } from '../source/deb.js';
import type { PackageProgress } from '../source/fetch-packages.js';
import { withLock } from '../source/lock.js';
import { dumpKallsyms } from '../verify/dump-kallsyms.js';
import { debianLayout } from './debian-layout.js';
import { fetchDebianPackages } from './fetch-debian-packages.js';
import { releaseNotFound, removeIfEmpty } from './release-not-found.js';
import { resolveDebianRelease } from './resolve-debian-release.js';
import type { TargetKernel } from './target.js';

export interface PrepareOptions {
  cacheDir?: string;
  signal?: AbortSignal;
  /** Progress messages for the UI ("downloading linux-image-…"). */
  onProgress?: (message: string) => void;
  /** Byte progress of package downloads. */
  onDownload?: (progress: PackageProgress) => void;
}

// Bump when the layout of a prepared target changes, so old caches are prepared again.
const TARGET_FORMAT = 1;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function readManifest(file: string): Promise<TargetKernel | undefined> {
  try {
    const manifest = JSON.parse(await readFile(file, 'utf8')) as TargetKernel & { format?: number };
    if (manifest.format !== TARGET_FORMAT) return undefined;
    const paths = [
      manifest.image,
      manifest.config,
      manifest.symbols.path,
      manifest.moduleSymvers,
      manifest.buildDir,
    ];
    for (const path of paths) if (!(await exists(path))) return undefined;
    return manifest;
  } catch {
    return undefined;
  }
}

/**
 * Debian's headers package points at its sibling "-common" package with an absolute /usr/src path, and
 * lib/modules/<release>/build is an absolute link: both must point into the cache instead.
 */
async function relocateHeaders(root: string, headersDir: string, modulesDir: string): Promise<void> {
  const makefile = join(headersDir, 'Makefile');
  const text = await readFile(makefile, 'utf8');
  await writeFile(makefile, text.replaceAll(/(^|\s)\/usr\/src\//gm, `$1${root}/usr/src/`));
  const build = join(modulesDir, 'build');
  const target = await readlink(build).catch(() => undefined);
  if (target?.startsWith('/')) {
    await rm(build);
    await symlink(relative(modulesDir, join(root, target)), build);
  }
}

/**
 * Fetches and unpacks one Debian kernel release (image, headers, kbuild) into the cache and reads its
 * symbols, once; later calls return the cached target at once.
 */
export async function prepareDebianTarget(
  releaseSpec: string,
  options: PrepareOptions = {},
): Promise<TargetKernel> {
  const release = await resolveDebianRelease(releaseSpec);
  const layout = debianLayout(release);
  const cache = options.cacheDir ?? cacheRoot();
  const dir = join(cache, 'targets', 'debian', release);
  const manifestFile = join(dir, 'target.json');
  const cached = await readManifest(manifestFile);
  if (cached) return cached;
  await mkdir(dir, { recursive: true });
  const unknownRelease = async (error: unknown) => {
    await removeIfEmpty(dir); // a release the archive lacks leaves no entry behind
    throw releaseNotFound(error, 'Debian', release, layout.imagePackage);
  };
  return withLock(join(dir, '.lock'), async () => {
    const again = await readManifest(manifestFile);
    if (again) return again;
    const progress = options.onProgress ?? (() => {});
    const wanted = [...layout.imagePackages, ...layout.headerPackages];
    progress(`downloading ${wanted.join(', ')}`);
    const debs = await fetchDebianPackages(wanted, {
      cacheDir: cache,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onDownload ? { onProgress: options.onDownload } : {}),
    });
    const root = join(dir, 'root');
    progress(`unpacking ${debs.map((d) => d.package).join(', ')}`);
    // The image package also carries docs and firmware lists; only the kernel, its modules and the
    // headers + kbuild trees matter here.
    await extractDebs(
      debs.map((d) => d.path),
      root,
      {
        filter: [
          'boot/**',
          'lib/modules/**',
          'usr/lib/modules/**',
          'usr/src/**',
          'usr/lib/linux-kbuild-*/**',
        ],
        replace: true,
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    const modulesDir = join(root, layout.paths.modules);
    const buildDir = join(root, layout.paths.headers);
    await relocateHeaders(root, buildDir, modulesDir);
    const image = join(root, layout.paths.image);
    progress(`reading kallsyms of ${release} in a VM`);
    const kallsyms = join(dir, 'kallsyms');
    await writeFile(kallsyms, await dumpKallsyms({ kernel: image }));
    const imageDeb = debs.find((d) => d.package === layout.imagePackage);
    if (!imageDeb) throw new DistroError(`${layout.imagePackage} was not downloaded`);
    const target: TargetKernel & { format: number } = {
      format: TARGET_FORMAT,
      id: `debian:${release}`,
      kind: 'debian',
      release,
      packageVersion: imageDeb.version,
      arch: 'x86_64',
      image,
      config: join(root, layout.paths.config),
      symbols: {
        format: 'kallsyms',
        path: kallsyms,
        origin: `/proc/kallsyms of ${layout.imagePackage}, booted in qemu`,
      },
      moduleSymvers: join(buildDir, 'Module.symvers'),
      buildDir,
      modulesDir,
    };
    await writeFile(manifestFile, `${JSON.stringify(target, null, 2)}\n`);
    return target;
  }).catch(unknownRelease);
}
