/** Test helpers: temp dirs, a loopback file server, and hand-made tar / ar archives. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach } from 'vitest';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A fresh temp dir, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kpb-source-'));
  dirs.push(dir);
  return dir;
}

export interface RequestLog {
  range: string | undefined;
  status: number;
  /** Body bytes written to the socket. */
  sent: number;
}

export interface ServeOptions {
  /** Answer 200 with the whole body even to Range requests. */
  ignoreRange?: boolean;
  /** For request n (0-based): an HTTP status to answer with instead, without body. */
  statusFor?: (n: number) => number | undefined;
  /** For request n: send only this many body bytes, then cut the connection. */
  truncateAfter?: (n: number) => number | undefined;
  /** Pause between 16 KiB chunks (for abort tests). */
  chunkDelayMs?: number;
}

export interface FileServer {
  url: string;
  log: RequestLog[];
  close(): Promise<void>;
}

/** Serves `body` at every path on 127.0.0.1, with Content-Length and (unless told not to) Range. */
export async function serveFile(body: Buffer, options: ServeOptions = {}): Promise<FileServer> {
  const log: RequestLog[] = [];
  const server: Server = createServer(async (req, res) => {
    const n = log.length;
    const entry: RequestLog = { range: req.headers.range, status: 0, sent: 0 };
    log.push(entry);
    const forced = options.statusFor?.(n);
    if (forced !== undefined) {
      entry.status = forced;
      res.writeHead(forced, { 'content-length': 0 }).end();
      return;
    }
    const match = options.ignoreRange ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = match ? Number(match[1]) : 0;
    if (match && start >= body.length) {
      entry.status = 416;
      res.writeHead(416, { 'content-range': `bytes */${body.length}`, 'content-length': 0 }).end();
      return;
    }
    const slice = body.subarray(start);
    entry.status = match ? 206 : 200;
    res.writeHead(entry.status, {
      'content-length': slice.length,
      ...(match ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    const limit = options.truncateAfter?.(n);
    for (let pos = 0; pos < slice.length; pos += 16384) {
      if (res.destroyed) return;
      let chunk = slice.subarray(pos, pos + 16384);
      if (limit !== undefined && entry.sent + chunk.length >= limit) {
        chunk = chunk.subarray(0, limit - entry.sent);
        entry.sent += chunk.length;
        res.write(chunk, () => res.destroy());
        return;
      }
      entry.sent += chunk.length;
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
      if (options.chunkDelayMs) await sleep(options.chunkDelayMs);
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/pool/main/k/kpb/file.deb`,
    log,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface TarSpec {
  name: string;
  /** '0' file, '1' hard link, '2' symlink, '3' char device, '5' directory, 'x' PAX, 'L' GNU long name. */
  type?: string;
  data?: string | Buffer;
  link?: string;
  /** Size field override (to forge headers). */
  size?: number;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header + data, written by hand so tests can forge what real tools refuse to create. */
export function tarMember(spec: TarSpec): Buffer {
  const data = typeof spec.data === 'string' ? Buffer.from(spec.data) : (spec.data ?? Buffer.alloc(0));
  const header = Buffer.alloc(512);
  header.write(spec.name.slice(0, 100), 0, 'utf8');
  header.write(octal(spec.type === '5' ? 0o755 : 0o644, 8), 100, 'latin1');
  header.write(octal(0, 8), 108, 'latin1');
  header.write(octal(0, 8), 116, 'latin1');
  header.write(octal(spec.size ?? data.length, 12), 124, 'latin1');
  header.write(octal(1_700_000_000, 12), 136, 'latin1');
  header.write(spec.type ?? '0', 156, 'latin1');
  header.write(spec.link ?? '', 157, 'utf8');
  header.write('ustar\x0000', 257, 'latin1');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, padding]);
}

/** A PAX member ('x', or 'g' for global) carrying the given records. */
export function paxMember(records: Record<string, string>, type = 'x'): Buffer {
  let body = '';
  for (const [key, value] of Object.entries(records)) {
    const rest = ` ${key}=${value}\n`;
    const bytes = Buffer.byteLength(rest);
    let length = bytes + 2;
    while (String(length).length + bytes !== length) length = String(length).length + bytes;
    body += `${length}${rest}`;
  }
  return tarMember({ name: 'PaxHeader', type, data: body });
}

export function tarArchive(members: (TarSpec | Buffer)[]): Buffer {
  return Buffer.concat([...members.map((m) => (Buffer.isBuffer(m) ? m : tarMember(m))), Buffer.alloc(1024)]);
}

/** An ar archive (the .deb container) with the given members. */
export function arArchive(members: { name: string; data: Buffer }[]): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const { name, data } of members) {
    const header =
      `${name}/`.padEnd(16) +
      '0'.padEnd(12) +
      '0'.padEnd(6) +
      '0'.padEnd(6) +
      '100644'.padEnd(8) +
      String(data.length).padEnd(10) +
      '`\n';
    parts.push(Buffer.from(header, 'latin1'), data);
    if (data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

export interface DirectoryServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:PORT */
  url: string;
  /** Paths requested, in order, with the status answered. */
  requests: { path: string; status: number }[];
  close(): Promise<void>;
}

/**
 * Serves the files under `root` on 127.0.0.1 (404 for anything else; ".." never leaves root), with
 * Content-Length and Range support, like a distro mirror.
 */
export async function serveDirectory(root: string): Promise<DirectoryServer> {
  const requests: { path: string; status: number }[] = [];
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = resolve(root, `.${path}`);
    const body = file.startsWith(`${resolve(root)}${sep}`)
      ? await readFile(file).catch(() => undefined)
      : undefined;
    if (!body) {
      requests.push({ path, status: 404 });
      res.writeHead(404, { 'content-length': 0 }).end();
      return;
    }
    const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = match ? Number(match[1]) : 0;
    if (match && start >= body.length) {
      requests.push({ path, status: 416 });
      res.writeHead(416, { 'content-range': `bytes */${body.length}`, 'content-length': 0 }).end();
      return;
    }
    const status = match ? 206 : 200;
    requests.push({ path, status });
    res.writeHead(status, {
      'content-length': body.length - start,
      ...(match ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    res.end(body.subarray(start));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}
