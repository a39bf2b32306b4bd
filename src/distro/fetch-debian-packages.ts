/**
 * Debian packages by name into the cache: the tool's archive client resolves them (src/distro/apt-uris.ts)
 * and fetchDebPackages downloads and verifies them.
 */
import type { FetchedPackage, FetchOptions } from '../source/fetch-packages.js';
import { fetchDebPackages } from '../source/fetch-packages.js';
import { type AptOptions, aptPackageUris } from './apt-uris.js';

export type DebianFetchOptions = Omit<FetchOptions, 'resolve'> & { apt?: AptOptions };

export function fetchDebianPackages(
  packages: readonly string[],
  options: DebianFetchOptions = {},
): Promise<FetchedPackage[]> {
  const { apt, ...rest } = options;
  return fetchDebPackages(packages, {
    ...rest,
    resolve: (names, where) =>
      aptPackageUris(names, { cacheDir: where.cacheDir, ...apt, signal: where.signal }),
  });
}
