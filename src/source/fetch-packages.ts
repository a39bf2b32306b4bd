/**
 * Fetches distro packages into the cache: a resolver over verified indexes (Debian's: src/distro/apt-uris.ts)
 * says where they are and what they must hash to,
 * downloadFile fetches and verifies them into CACHE/debs/, all under the cache's lock so two runs never
 * write the same .part at once. Files already there and verified cost no network.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot } from './cache-dir.js';
import type { DigestAlgorithm } from './download.js';
import { type DownloadProgress, downloadFile } from './download.js';
import { type LockHolder, withLock } from './lock.js';

/** Where a package is and what it must hash to, from a verified index. */
export interface AptUri {
  url: string;
  /** File name to save it as (an epoch's ':' appears as '%3a', as apt names it). */
  fileName: string;
  size: number;
  /** Hex SHA256 from the verified index. */
  sha256: string | undefined;
  hash: { algorithm: DigestAlgorithm; digest: string } | undefined;
  package: string;
  version: string;
  architecture: string;
}

export interface PackageProgress extends DownloadProgress {
  package: string;
  fileName: string;
  /** 0-based position of this package in the list, and the list's length. */
  index: number;
  count: number;
}

export interface FetchOptions {
  /** Defaults to cacheRoot(). */
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (progress: PackageProgress) => void;
  /** Called once if another run holds the cache lock and we wait for it. */
  onLockWait?: (holder: LockHolder) => void;
  /** Fail at once (LockError) instead of waiting for another run. */
  noWait?: boolean;
  retries?: number;
  retryDelayMs?: number;
  /** Resolves packages to URIs from a verified index (Debian's: src/distro/fetch-debian-packages.ts). */
  resolve: (
    packages: readonly string[],
    options: { cacheDir: string; signal?: AbortSignal | undefined },
  ) => Promise<AptUri[]>;
}

export interface FetchedPackage {
  package: string;
  version: string;
  architecture: string;
  path: string;
  url: string;
  bytes: number;
  sha256: string;
  /** False when a verified copy was already in the cache. */
  downloaded: boolean;
}

export async function fetchDebPackages(
  packages: readonly string[],
  options: FetchOptions,
): Promise<FetchedPackage[]> {
  const cacheDir = options.cacheDir ?? cacheRoot();
  const debs = join(cacheDir, 'debs');
  const uris = await options.resolve(packages, { cacheDir, signal: options.signal });
  await mkdir(debs, { recursive: true });
  return withLock(
    join(debs, '.lock'),
    async () => {
      const fetched: FetchedPackage[] = [];
      for (const [index, uri] of uris.entries()) {
        let downloaded = false;
        const result = await downloadFile({
          url: uri.url,
          dest: join(debs, uri.fileName),
          sha256: uri.sha256,
          checksum: uri.hash,
          size: uri.size,
          retries: options.retries,
          retryDelayMs: options.retryDelayMs,
          signal: options.signal,
          onProgress: (progress) => {
            downloaded = true;
            options.onProgress?.({
              ...progress,
              package: uri.package,
              fileName: uri.fileName,
              index,
              count: uris.length,
            });
          },
        });
        fetched.push({
          package: uri.package,
          version: uri.version,
          architecture: uri.architecture,
          path: result.path,
          url: uri.url,
          bytes: result.bytes,
          sha256: result.sha256,
          downloaded,
        });
      }
      return fetched;
    },
    { wait: !options.noWait, onWait: options.onLockWait, signal: options.signal },
  );
}
