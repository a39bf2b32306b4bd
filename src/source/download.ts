/**
 * Resumable, verified HTTP downloads. Bytes go to `DEST.part`; a later attempt (or a later run) resumes
 * it with a Range request; `DEST` appears, by rename, only once size and digest are right. So a file at
 * `DEST` is always complete, and an interrupted 140 MB download costs only the missing bytes next time.
 * Retries are ours, not got's, because each retry must recompute the Range from what reached the disk.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import got, { RequestError, type Response } from 'got';
import { ChecksumError, DownloadError, KpatchError } from '../errors.js';
import { abortError } from './abort.js';

export type DigestAlgorithm = 'sha256' | 'sha512' | 'sha1' | 'md5';

export interface Checksum {
  algorithm: DigestAlgorithm;
  /** Hex digest. */
  digest: string;
}

export interface DownloadProgress {
  /** Bytes of the file we have, including a resumed prefix. */
  transferred: number;
  /** Size of the whole file, when known. */
  total: number | undefined;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  sha256?: string;
  /** Any other digest apt may give (SHA512:, MD5Sum:); checked in addition to `sha256`. */
  checksum?: Checksum;
  size?: number;
  /** Retries after transient failures (network errors, 5xx, 408, 429, truncated bodies). Default 5. */
  retries?: number;
  /** First backoff delay; doubles per retry, capped at 30 s. Default 1000 ms. */
  retryDelayMs?: number;
  /** Give up on a connection idle this long. Default 60 s. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  /** True if part of the file came from an earlier, interrupted attempt. */
  resumed: boolean;
  sha256: string;
}

/** An HTTP error status; `status` is the code (404, 503, …). */
export class HttpStatusError extends DownloadError {
  constructor(
    url: string,
    readonly status: number,
    statusMessage: string | undefined,
    hint: string,
  ) {
    super(url, `HTTP ${status}${statusMessage ? ` ${statusMessage}` : ''}`, { hint });
  }
}

/** A failure worth retrying (with resume); `retryAfterMs` when the server said how long to wait. */
class Transient extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    readonly status?: number,
  ) {
    super(message);
  }
}

interface Hashers {
  sha256: Hash;
  extra?: Hash;
}

function newHashers(checksum: Checksum | undefined): Hashers {
  const extra = checksum && checksum.algorithm !== 'sha256' ? createHash(checksum.algorithm) : undefined;
  return { sha256: createHash('sha256'), extra };
}

async function hashInto(path: string, hashers: Hashers): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hashers.sha256.update(chunk as Buffer);
    hashers.extra?.update(chunk as Buffer);
  }
}

interface Fetched {
  bytes: number;
  resumed: boolean;
  hashers: Hashers;
}

function retryAfter(response: Response): number | undefined {
  const seconds = Number(response.headers['retry-after']);
  return Number.isFinite(seconds) && seconds >= 0 && seconds <= 60 ? seconds * 1000 : undefined;
}

/** One attempt: resumes `part` from its current length; resolves when the server's body is all on disk. */
async function fetchOnce(
  options: DownloadOptions,
  part: string,
  checksum: Checksum | undefined,
): Promise<Fetched> {
  const { url, size, signal, onProgress } = options;
  let offset = (await stat(part).catch(() => undefined))?.size ?? 0;
  if (size !== undefined && offset > size) {
    await rm(part, { force: true });
    offset = 0;
  }
  let hashers = newHashers(checksum);
  if (offset > 0) await hashInto(part, hashers); // the digest covers the whole file, resumed prefix included
  if (size !== undefined && offset === size && offset > 0) return { bytes: offset, resumed: true, hashers };

  const request = got.stream(url, {
    headers:
      offset > 0
        ? { range: `bytes=${offset}-`, 'accept-encoding': 'identity' }
        : { 'accept-encoding': 'identity' },
    decompress: false,
    retry: { limit: 0 },
    throwHttpErrors: false,
    timeout: { connect: 30_000, socket: options.idleTimeoutMs ?? 60_000 },
    signal,
  });
  // Swallow errors emitted after we stopped caring (e.g. after destroy on a non-2xx answer).
  request.on('error', () => undefined);
  const response = await new Promise<Response>((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
  });
  const status = response.statusCode;
  const header = (name: string) => response.headers[name] as string | undefined;
  let total: number | undefined;
  let expected: number | undefined; // body length announced for this response
  if (status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header('content-range') ?? '');
    if (!range || Number(range[1]) !== offset) {
      request.destroy();
      await rm(part, { force: true });
      throw new Transient(
        `unexpected Content-Range "${header('content-range')}" for a request from byte ${offset}`,
      );
    }
    expected = Number(range[2]) - offset + 1;
    total = range[3] === '*' ? undefined : Number(range[3]);
  } else if (status === 200) {
    if (offset > 0) {
      // The server ignored our Range: it is sending the whole file, so start again from zero.
      offset = 0;
      hashers = newHashers(checksum);
    }
    total = header('content-length') === undefined ? undefined : Number(header('content-length'));
    expected = total;
  } else if (status === 416 && offset > 0) {
    request.destroy();
    const whole = /^bytes \*\/(\d+)$/.exec(header('content-range') ?? '');
    if (whole && Number(whole[1]) === offset) return { bytes: offset, resumed: true, hashers }; // .part was complete
    await rm(part, { force: true });
    throw new Transient(`server refused the range from byte ${offset} (HTTP 416); starting again`);
  } else {
    request.destroy();
    if (status >= 500 || status === 408 || status === 429) {
      throw new Transient(
        `HTTP ${status} ${response.statusMessage ?? ''}`.trim(),
        retryAfter(response),
        status,
      );
    }
    await rm(part, { force: true });
    throw new HttpStatusError(
      url,
      status,
      response.statusMessage,
      status === 404
        ? 'the mirror no longer has this file (a newer version replaced it?): run apt-get update and try again'
        : 'check the URL and the mirror configuration',
    );
  }
  if (size !== undefined && total !== undefined && total !== size) {
    request.destroy();
    await rm(part, { force: true });
    throw new DownloadError(url, `size mismatch: expected ${size} bytes, the server has ${total}`, {
      hint: 'the package index and the mirror disagree: run apt-get update and try again',
    });
  }
  total ??= size;

  // Not stream.pipeline: on a network error or abort, pipeline would destroy the file stream and drop
  // bytes already received but not yet written. Ending it instead keeps every byte we got for resuming.
  let received = 0;
  const file = createWriteStream(part, { flags: offset > 0 ? 'a' : 'w', flush: true });
  await new Promise<void>((resolve, reject) => {
    let failure: unknown;
    request.on('data', (chunk: Buffer) => {
      hashers.sha256.update(chunk);
      hashers.extra?.update(chunk);
      received += chunk.length;
      onProgress?.({ transferred: offset + received, total });
      if (!file.write(chunk)) {
        request.pause();
        file.once('drain', () => request.resume());
      }
    });
    request.once('end', () => file.end());
    request.once('error', (error) => {
      failure = error;
      file.end();
    });
    file.once('error', (error) => {
      failure ??= error;
      request.destroy();
    });
    file.once('close', () => (failure === undefined ? resolve() : reject(failure)));
  }).finally(() => request.destroy()); // got removes its listener on `signal` only when destroyed
  if (expected !== undefined && received < expected) {
    throw new Transient(`connection closed after ${received} of ${expected} bytes`);
  }
  if (size !== undefined && offset + received < size) {
    throw new Transient(`connection closed after ${offset + received} of ${size} bytes`);
  }
  return { bytes: offset + received, resumed: offset > 0, hashers };
}

function normalise(options: DownloadOptions): { sha256?: string; checksum?: Checksum } {
  const check = (algorithm: DigestAlgorithm, digest: string): string => {
    const lengths = { sha256: 64, sha512: 128, sha1: 40, md5: 32 };
    const hex = digest.trim().toLowerCase();
    if (!new RegExp(`^[0-9a-f]{${lengths[algorithm]}}$`).test(hex)) {
      throw new DownloadError(options.url, `invalid ${algorithm} digest "${digest}"`, {
        hint: 'pass the hex digest from the package index',
      });
    }
    return hex;
  };
  const sha256 = options.sha256 === undefined ? undefined : check('sha256', options.sha256);
  const c = options.checksum;
  if (c?.algorithm === 'sha256') return { sha256: sha256 ?? check('sha256', c.digest) };
  return { sha256, checksum: c && { algorithm: c.algorithm, digest: check(c.algorithm, c.digest) } };
}

/** First mismatch between the digests computed and those expected, as [expected, actual]. */
function mismatch(
  hashers: Hashers,
  sha256: string,
  want: { sha256?: string; checksum?: Checksum },
): [string, string] | undefined {
  if (want.sha256 && want.sha256 !== sha256) return [want.sha256, sha256];
  if (want.checksum && hashers.extra) {
    const actual = hashers.extra.digest('hex');
    const tag = want.checksum.algorithm.toUpperCase();
    if (actual !== want.checksum.digest) return [`${tag}:${want.checksum.digest}`, `${tag}:${actual}`];
  }
  return undefined;
}

function isTransient(error: unknown): boolean {
  return error instanceof Transient || (error instanceof RequestError && error.name !== 'AbortError');
}

export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  const { url, dest, size, signal } = options;
  const want = normalise(options);
  const retries = options.retries ?? 5;

  // A file at dest got there by rename after verification; re-check it anyway, it is cheap next to a download.
  const existing = await stat(dest).catch(() => undefined);
  if (existing?.isFile() && (size === undefined || existing.size === size)) {
    const hashers = newHashers(want.checksum);
    await hashInto(dest, hashers);
    const sha256 = hashers.sha256.digest('hex');
    if (!mismatch(hashers, sha256, want)) return { path: dest, bytes: existing.size, resumed: false, sha256 };
  }

  await mkdir(dirname(dest), { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new DownloadError(url, `cannot create ${dirname(dest)}: ${error.code ?? error.message}`, {
      hint: 'check the permissions of the cache directory (set CACHEDIR to use another one)',
    });
  });
  const part = `${dest}.part`;
  let failures = 0;
  let restarted = false;
  for (;;) {
    if (signal?.aborted) throw abortError(signal);
    let fetched: Fetched;
    try {
      fetched = await fetchOnce(options, part, want.checksum);
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      if (error instanceof KpatchError) throw error;
      const kept = (await stat(part).catch(() => undefined))?.size ?? 0;
      if (!isTransient(error) || failures >= retries) {
        throw new DownloadError(
          url,
          `download failed${failures ? ` after ${failures + 1} attempts` : ''}: ${(error as Error).message}`,
          {
            hint:
              (error as NodeJS.ErrnoException).code === 'ENOSPC'
                ? `no space left for ${part}: free some disk space (or set CACHEDIR elsewhere) and run again to resume`
                : kept
                  ? `the ${kept} bytes received so far are kept in ${part}; run again to resume`
                  : 'check the network connection and the mirror, then run again',
            cause: error,
          },
        );
      }
      failures++;
      const delay =
        (error as Transient).retryAfterMs ??
        Math.min((options.retryDelayMs ?? 1000) * 2 ** (failures - 1), 30_000);
      await sleep(delay * (0.75 + Math.random() / 2), undefined, { signal }).catch(() => undefined);
      continue;
    }
    if (size !== undefined && fetched.bytes !== size) {
      await rm(part, { force: true });
      throw new DownloadError(url, `size mismatch: expected ${size} bytes, got ${fetched.bytes}`, {
        hint: 'the package index and the mirror disagree: run apt-get update and try again',
      });
    }
    const sha256 = fetched.hashers.sha256.digest('hex');
    const bad = mismatch(fetched.hashers, sha256, want);
    if (bad) {
      await rm(part, { force: true });
      // A resumed prefix may be from another file (a replaced upload): give a clean download one chance.
      if (fetched.resumed && !restarted) {
        restarted = true;
        continue;
      }
      throw new ChecksumError(dest, bad[0], bad[1]);
    }
    await rename(part, dest);
    return { path: dest, bytes: fetched.bytes, resumed: fetched.resumed, sha256 };
  }
}
