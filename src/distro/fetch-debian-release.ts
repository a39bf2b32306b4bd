/**
 * One call for "this Debian kernel release's package files, verified, in the cache": the release is
 * resolved in its suite's signed indexes (resolveDebianPackages), and the packages asked for — image,
 * headers (headers, -common, kbuild), source — are fetched into CACHE/debs by fetchDebPackages, each
 * checked against its index's size and SHA256 before it is kept (a cached one is hashed again).
 */
import { DistroError } from '../errors.js';
import type { ArchiveOptions, ArchivePackage } from '../source/debian-archive.js';
import { type FetchedPackage, type FetchOptions, fetchDebPackages } from '../source/fetch-packages.js';
import { toAptUri } from './apt-uris.js';
import { type ResolvedDebianRelease, resolveDebianPackages } from './debian-suite-index.js';

export type DebianReleasePart = 'image' | 'headers' | 'source';

export interface FetchedDebianRelease {
  resolved: ResolvedDebianRelease;
  /** In the order: image (and its parts), headers…, source — those asked for. */
  files: FetchedPackage[];
}

export async function fetchDebianRelease(
  release: string,
  parts: readonly DebianReleasePart[],
  options: Omit<FetchOptions, 'resolve'> & Pick<ArchiveOptions, 'config'> & { suite?: string } = {},
): Promise<FetchedDebianRelease> {
  const archive = {
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.config ? { config: options.config } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const resolved = await resolveDebianPackages(release, options.suite, archive);
  const { source } = resolved;
  if (parts.includes('source') && !source) {
    throw new DistroError(
      `${resolved.layout.sourcePackage} ${resolved.packageVersion} (the source of ${release}) is no longer in ${resolved.suite}'s archive`,
      {
        hint: `only the newest builds keep their source package; choose a newer release of ${resolved.suite}`,
      },
    );
  }
  const wanted: ArchivePackage[] = [
    ...(parts.includes('image') ? [resolved.image, ...resolved.imageParts] : []),
    ...(parts.includes('headers') ? resolved.headers : []),
    ...(parts.includes('source') && source ? [source] : []),
  ];
  const uris = wanted.map(toAptUri);
  const { suite: _suite, config: _config, ...fetchOptions } = options;
  const files = await fetchDebPackages(
    wanted.map((p) => p.package),
    { ...fetchOptions, resolve: async () => uris },
  );
  return { resolved, files };
}
