import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChecksumError, DownloadError, InterruptedError } from '../../src/errors.js';
import { type DownloadOptions, downloadFile, HttpStatusError } from '../../src/source/download.js';
import { type FileServer, type ServeOptions, serveFile, tempDir } from './helpers.js';

const body = randomBytes(300_000);
const sha256 = createHash('sha256').update(body).digest('hex');
const servers: FileServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function setup(serve: ServeOptions = {}, partBytes?: Buffer) {
  const server = await serveFile(body, serve);
  servers.push(server);
  const dir = await tempDir();
  const dest = join(dir, 'file.deb');
  if (partBytes) await writeFile(`${dest}.part`, partBytes);
  const download = (extra: Partial<DownloadOptions> = {}) =>
    downloadFile({ url: server.url, dest, sha256, size: body.length, retryDelayMs: 5, ...extra });
  return { server, dest, part: `${dest}.part`, download };
}

describe('downloadFile: successful paths', () => {
  const cases: {
    name: string;
    serve?: ServeOptions;
    part?: Buffer;
    options?: Partial<DownloadOptions>;
    resumed: boolean;
    requests: { range: string | undefined; status: number; sent: number }[];
  }[] = [
    {
      name: 'fresh download',
      resumed: false,
      requests: [{ range: undefined, status: 200, sent: body.length }],
    },
    {
      name: 'resumes a partial .part with a Range request, fetching only the rest',
      part: body.subarray(0, 100_000),
      resumed: true,
      requests: [{ range: 'bytes=100000-', status: 206, sent: body.length - 100_000 }],
    },
    {
      name: 'server ignoring Range: starts again from zero',
      serve: { ignoreRange: true },
      part: body.subarray(0, 100_000),
      resumed: false,
      requests: [{ range: 'bytes=100000-', status: 200, sent: body.length }],
    },
    {
      name: 'complete .part and unknown size: 416 means done',
      part: body,
      options: { size: undefined },
      resumed: true,
      requests: [{ range: `bytes=${body.length}-`, status: 416, sent: 0 }],
    },
    {
      name: 'complete .part and known size: no request at all',
      part: body,
      resumed: true,
      requests: [],
    },
    {
      name: 'connection cut once: retried with resume',
      serve: { truncateAfter: (n) => (n === 0 ? 50_000 : undefined) },
      resumed: true,
      requests: [
        { range: undefined, status: 200, sent: 50_000 },
        { range: 'bytes=50000-', status: 206, sent: body.length - 50_000 },
      ],
    },
    {
      name: 'transient 503 then success',
      serve: { statusFor: (n) => (n === 0 ? 503 : undefined) },
      resumed: false,
      requests: [
        { range: undefined, status: 503, sent: 0 },
        { range: undefined, status: 200, sent: body.length },
      ],
    },
    {
      name: 'resumed prefix from another file: checksum fails, one clean retry succeeds',
      part: randomBytes(100_000),
      resumed: false,
      requests: [
        { range: 'bytes=100000-', status: 206, sent: body.length - 100_000 },
        { range: undefined, status: 200, sent: body.length },
      ],
    },
  ];

  it.each(cases)('$name', async ({ serve, part, options, resumed, requests }) => {
    const t = await setup(serve, part);
    const progress: number[] = [];
    const result = await t.download({ ...options, onProgress: (p) => progress.push(p.transferred) });
    expect(result).toEqual({ path: t.dest, bytes: body.length, resumed, sha256 });
    expect(Buffer.compare(await readFile(t.dest), body)).toBe(0);
    expect(existsSync(t.part)).toBe(false);
    expect(t.server.log).toEqual(requests);
    if (requests.some((r) => r.sent > 0)) expect(progress.at(-1)).toBe(body.length);
  });

  it('returns at once, without network, when dest is already there and verified', async () => {
    const t = await setup();
    await writeFile(t.dest, body);
    expect(await t.download()).toMatchObject({ bytes: body.length, resumed: false, sha256 });
    expect(t.server.log).toEqual([]);
  });

  it('replaces a dest that fails verification', async () => {
    const t = await setup();
    await writeFile(t.dest, randomBytes(body.length));
    await t.download();
    expect(Buffer.compare(await readFile(t.dest), body)).toBe(0);
    expect(t.server.log).toHaveLength(1);
  });

  it('verifies other apt digests (SHA512) besides SHA256', async () => {
    const t = await setup();
    const digest = createHash('sha512').update(body).digest('hex');
    await expect(
      t.download({ sha256: undefined, checksum: { algorithm: 'sha512', digest } }),
    ).resolves.toMatchObject({
      sha256,
    });
  });
});

describe('downloadFile: failures', () => {
  it('checksum mismatch: ChecksumError, .part removed, dest absent', async () => {
    const t = await setup();
    const error = await t.download({ sha256: 'ab'.repeat(32) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChecksumError);
    expect((error as ChecksumError).message).toContain(t.dest);
    expect((error as ChecksumError).hint).toBeTruthy();
    expect(existsSync(t.part)).toBe(false);
    expect(existsSync(t.dest)).toBe(false);
  });

  it.each([404, 403, 410])(
    'HTTP %i: DownloadError with the status, no retry, no files left',
    async (status) => {
      const t = await setup({ statusFor: () => status });
      const error = await t.download().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DownloadError);
      expect(error).toBeInstanceOf(HttpStatusError);
      expect((error as HttpStatusError).status).toBe(status);
      expect((error as DownloadError).message).toContain(t.server.url);
      expect((error as DownloadError).hint).toBeTruthy();
      expect(t.server.log).toHaveLength(1);
      expect(existsSync(t.part) || existsSync(t.dest)).toBe(false);
    },
  );

  it('size mismatch: DownloadError naming both sizes, no files left', async () => {
    const t = await setup();
    const error = await t.download({ size: body.length + 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toMatch(/size mismatch.*300001.*300000/);
    expect(existsSync(t.part) || existsSync(t.dest)).toBe(false);
  });

  it('server that always cuts the connection: retries, then DownloadError; .part kept and resumable', async () => {
    const t = await setup({ truncateAfter: () => 20_000 });
    const error = await t.download({ retries: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).message).toContain('after 3 attempts');
    expect((error as DownloadError).hint).toMatch(/kept in .*\.part; run again to resume/);
    expect(t.server.log.map((r) => r.range)).toEqual([undefined, 'bytes=20000-', 'bytes=40000-']);
    expect((await stat(t.part)).size).toBe(60_000);
    expect(existsSync(t.dest)).toBe(false);

    // The next run against a healthy server fetches only the rest.
    const healthy = await serveFile(body);
    servers.push(healthy);
    const result = await downloadFile({ url: healthy.url, dest: t.dest, sha256, size: body.length });
    expect(result.resumed).toBe(true);
    expect(healthy.log).toEqual([{ range: 'bytes=60000-', status: 206, sent: body.length - 60_000 }]);
  });

  it('persistent 5xx: DownloadError after the retries', async () => {
    const t = await setup({ statusFor: () => 502 });
    const error = await t.download({ retries: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toMatch(/HTTP 502/);
    expect(t.server.log).toHaveLength(2);
  });

  it('abort mid-transfer: InterruptedError promptly, .part kept, next call resumes', async () => {
    const t = await setup({ chunkDelayMs: 20 });
    const controller = new AbortController();
    const started = Date.now();
    let abortedAt = 0;
    const error = await t
      .download({
        signal: controller.signal,
        onProgress: ({ transferred }) => {
          if (transferred >= 64 * 1024 && !abortedAt) {
            abortedAt = Date.now();
            controller.abort();
          }
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(Date.now() - abortedAt).toBeLessThan(1000);
    expect(Date.now() - started).toBeLessThan(5000);
    const kept = (await stat(t.part)).size;
    expect(kept).toBeGreaterThanOrEqual(64 * 1024);
    expect(kept).toBeLessThan(body.length);
    expect(Buffer.compare(await readFile(t.part), body.subarray(0, kept))).toBe(0);

    const result = await t.download();
    expect(result.resumed).toBe(true);
    expect(t.server.log.at(-1)).toEqual({ range: `bytes=${kept}-`, status: 206, sent: body.length - kept });
  });

  it('abort reason that is already a KpatchError is passed through', async () => {
    const t = await setup({ chunkDelayMs: 20 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new InterruptedError('SIGTERM')), 30);
    await expect(t.download({ signal: controller.signal })).rejects.toThrow('interrupted by SIGTERM');
  });

  it('refuses a malformed digest before any request', async () => {
    const t = await setup();
    await expect(t.download({ sha256: 'xyz' })).rejects.toThrow(/invalid sha256 digest/);
    expect(t.server.log).toEqual([]);
  });
});
