/**
 * Debian: release "<abi>-<flavour>" (6.1.0-56-amd64, 6.12.118+deb13-amd64) or "latest" (what the suite's
 * linux-image-amd64 points at). Package names, in-package paths and release rules per suite are in
 * distro/debian.json (debian-layout.ts); the tool's archive client resolves them to URLs, sizes and
 * SHA256s from the suite's signed indexes (apt-uris.ts). The target (image, headers + kbuild, kallsyms
 * read in a VM) is prepare-debian-target.ts; the source is linux-source-<series> of the image's very
 * package version (debian-source-tree.ts); the kbuild recipe is debian-kbuild.ts. Objects compile where
 * the kernel's compiler is: the host, or a build root of the release's suite (debian-toolchain.ts).
 */
import { join } from 'node:path';
import { DistroError } from '../errors.js';
import { cacheRoot } from '../source/cache-dir.js';
import { debianArchiveConfig } from '../source/debian-mirrors.js';
import type { AptUri } from '../source/fetch-packages.js';
import { aptPackageUris } from './apt-uris.js';
import { debianKbuildRecipe } from './debian-kbuild.js';
import { debianData, debianLayout } from './debian-layout.js';
import { debianSealedFunctions } from './debian-sealed-functions.js';
import { unpackDebianSource } from './debian-source-tree.js';
import { debianToolchain } from './debian-toolchain.js';
import type {
  Artifact,
  DistroAdapter,
  ParsedRelease,
  PrepareDistroOptions,
  PreparedDistroSource,
  ResolveOptions,
} from './distro-adapter.js';
import { prepareDebianTarget } from './prepare-debian-target.js';
import { resolveDebianRelease } from './resolve-debian-release.js';

/** "latest", or a release whose name one of the suites' rules accepts (else a DistroError with a hint). */
function parseRelease(release: string): ParsedRelease {
  if (release === 'latest') return { release, parts: {} };
  const layout = debianLayout(release);
  return { release, parts: { suite: layout.suite, kver: layout.kernelSeries, flavour: layout.flavour } };
}

const artifact = (role: string, uri: AptUri): Artifact => ({
  role,
  fileName: uri.fileName,
  url: uri.url,
  ...(uri.sha256 ? { sha256: uri.sha256 } : {}),
  size: uri.size,
  verification: 'apt-index',
});

/** The image, headers and source packages of a release, from the suite's verified indexes. */
async function resolveArtifacts(release: string, options: ResolveOptions = {}) {
  const { mirror } = options;
  const archive = {
    // A mirror override replaces both base URLs of distro/debian.json, as for the other distros.
    ...(mirror ? { config: { ...debianArchiveConfig(), mirror, securityMirror: mirror } } : {}),
    cacheDir: options.cacheDir ?? cacheRoot(),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const resolved = await resolveDebianRelease(release, archive);
  const layout = debianLayout(resolved);
  const binaries = await aptPackageUris([layout.imagePackage, ...layout.headerPackages], archive);
  const image = binaries[0];
  if (!image) throw new DistroError(`${layout.imagePackage} was not resolved`);
  const [source] = await aptPackageUris([`${layout.sourcePackage}=${image.version}`], archive);
  if (!source) throw new DistroError(`${layout.sourcePackage} ${image.version} was not resolved`);
  return {
    distro: 'debian' as const,
    release: resolved,
    packageVersion: image.version,
    source: [artifact('source', source)],
    binaries: binaries.map((uri, i) => artifact(i === 0 ? 'image' : 'headers', uri)),
  };
}

/** The target's files (prepareDebianTarget) and its unpacked source, both cached per release. */
async function prepareSource(
  release: string,
  options: PrepareDistroOptions = {},
): Promise<PreparedDistroSource> {
  const cacheDir = options.cacheDir ?? cacheRoot();
  const start = performance.now();
  const target = await prepareDebianTarget(release, {
    cacheDir,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.onDownload ? { onDownload: options.onDownload } : {}),
  });
  options.onPhase?.('target', performance.now() - start);
  const dir = join(cacheDir, 'targets', 'debian', target.release);
  const cached = await unpackDebianSource(target, dir, {
    cacheDir,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.onDownload ? { onDownload: options.onDownload } : {}),
    ...(options.onPhase ? { onPhase: options.onPhase } : {}),
  });
  return {
    distro: 'debian',
    release: target.release,
    packageVersion: target.packageVersion,
    tree: join(dir, 'source'),
    config: target.config,
    moduleSymvers: target.moduleSymvers,
    systemMap: target.symbols.path,
    headersDir: target.buildDir,
    image: target.image,
    ...(target.modulesDir ? { modulesDir: target.modulesDir } : {}),
    utsDefines: [],
    // Every package was checked against the suite's signed indexes when it was fetched.
    verified: {},
    cached,
  };
}

export function debianAdapter(): DistroAdapter {
  const data = debianData();
  return {
    id: 'debian',
    name: data.label,
    description: data.description,
    parseRelease,
    resolveArtifacts,
    prepareSource,
    toolchain: (source, options) => debianToolchain(source, options),
    kbuildRecipe: debianKbuildRecipe,
    sealedFunctions: (source, options) =>
      debianSealedFunctions(
        { config: source.config, image: source.image ?? '', symbols: { path: source.systemMap } },
        options,
      ),
  };
}
