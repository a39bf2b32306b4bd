/**
 * One download into the cache under the lock of its directory (two runs never write the same .part), through
 * downloadFile (resume, retries, size and SHA256 check). `fresh` is for small unverifiable metadata that
 * changes on the server (InRelease, repomd.xml): it is fetched again every time instead of being reused.
 */
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type DownloadProgress, type DownloadResult, downloadFile } from './download.js';
import { withLock } from './lock.js';

export interface FetchFileOptions {
  url: string;
  dest: string;
  sha256?: string;
  size?: number;
  /** Download again even if `dest` exists (for metadata without a known digest). */
  fresh?: boolean;
  signal?: AbortSignal;
  retries?: number;
  retryDelayMs?: number;
  onProgress?: (progress: DownloadProgress) => void;
}

export async function fetchFile(options: FetchFileOptions): Promise<DownloadResult> {
  const dir = dirname(options.dest);
  await mkdir(dir, { recursive: true });
  return withLock(
    join(dir, '.lock'),
    async () => {
      if (options.fresh) await rm(options.dest, { force: true });
      return downloadFile({
        url: options.url,
        dest: options.dest,
        sha256: options.sha256,
        size: options.size,
        signal: options.signal,
        retries: options.retries,
        retryDelayMs: options.retryDelayMs,
        onProgress: options.onProgress,
      });
    },
    { signal: options.signal },
  );
}
