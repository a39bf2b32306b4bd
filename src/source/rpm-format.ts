/**
 * The RPM file format (v3 lead, v4 headers), read without rpm(8):
 *   lead (96 bytes, magic ed ab ee db) | signature header, padded to 8 bytes | main header | payload
 * A header is: magic 8e ad e8 01, 4 reserved bytes, index count, data size, index entries (16 bytes each:
 * tag, type, offset, count), then the data store. The payload is a compressed cpio (newc) archive.
 *
 * `readRpm` also checks the digests the file carries about itself: the signature header's SHA256 (or SHA1)
 * of the main header, the main header's PAYLOADDIGEST of the compressed payload, and the signature's
 * MD5 + SIZE over header and payload. These prove the file is intact and complete (integrity); they do
 * not prove who made it: GPG signatures are not checked.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { KpatchError, SourceError } from '../errors.js';
import { type Compression, sniffCompression } from './extract-tar.js';

const LEAD_SIZE = 96;
const LEAD_MAGIC = 0xedabeedb;
const HEADER_MAGIC = 0x8eade801;
/** Refuse headers larger than this: real kernel RPM headers are a few MB (file lists). */
const MAX_HEADER = 256 << 20;

export const RPM_TAG = {
  name: 1000,
  version: 1001,
  release: 1002,
  epoch: 1003,
  arch: 1022,
  sourceRpm: 1044,
  sourcePackage: 1106,
  payloadFormat: 1124,
  payloadCompressor: 1125,
  payloadDigest: 5092,
  payloadDigestAlgo: 5093,
} as const;

export const RPM_SIG_TAG = { size: 1000, md5: 1004, sha1: 269, sha256: 273, longSize: 270 } as const;

type TagValue = string | string[] | number[] | bigint[] | Buffer;

export interface RpmHeader {
  /** Byte offset of the header's magic in the file. */
  start: number;
  /** Byte offset just past the data store. */
  end: number;
  tags: Map<number, TagValue>;
}

export interface RpmInfo {
  path: string;
  name: string;
  version: string;
  release: string;
  arch: string;
  /** True for a source package (.src.rpm). */
  isSource: boolean;
  payloadFormat: string;
  compression: Compression;
  /** Byte offset of the compressed payload. */
  payloadOffset: number;
  fileSize: number;
  /** What was verified, e.g. ["header sha256", "payload sha256", "md5+size"]. */
  verified: string[];
}

function corrupt(path: string, why: string): SourceError {
  return new SourceError(`${path}: not a valid RPM: ${why}`, {
    hint: 'the file is corrupt or incomplete; delete it so it is downloaded again',
  });
}

const ALGOS: Record<number, string> = { 1: 'md5', 2: 'sha1', 8: 'sha256', 9: 'sha384', 10: 'sha512' };

function readValue(store: Buffer, type: number, offset: number, count: number, where: string): TagValue {
  const need = (bytes: number) => {
    if (offset < 0 || offset + bytes > store.length) throw new Error(`${where}: tag data out of range`);
  };
  const strings = (n: number): string[] => {
    const out: string[] = [];
    let pos = offset;
    for (let i = 0; i < n; i++) {
      const end = store.indexOf(0, pos);
      if (end === -1) throw new Error(`${where}: unterminated string`);
      out.push(store.toString('utf8', pos, end));
      pos = end + 1;
    }
    return out;
  };
  switch (type) {
    case 6: // STRING
      return strings(1)[0] ?? '';
    case 8: // STRING_ARRAY
    case 9: // I18NSTRING
      return strings(count);
    case 7: // BIN
      need(count);
      return store.subarray(offset, offset + count);
    case 2:
    case 1: // INT8, CHAR
      need(count);
      return [...store.subarray(offset, offset + count)];
    case 3: // INT16
      need(2 * count);
      return Array.from({ length: count }, (_, i) => store.readUInt16BE(offset + 2 * i));
    case 4: // INT32
      need(4 * count);
      return Array.from({ length: count }, (_, i) => store.readUInt32BE(offset + 4 * i));
    case 5: // INT64
      need(8 * count);
      return Array.from({ length: count }, (_, i) => store.readBigUInt64BE(offset + 8 * i));
    default:
      return Buffer.alloc(0);
  }
}

async function readHeaderAt(
  file: import('node:fs/promises').FileHandle,
  start: number,
  path: string,
): Promise<RpmHeader> {
  const intro = Buffer.alloc(16);
  if ((await file.read(intro, 0, 16, start)).bytesRead < 16)
    throw corrupt(path, `header cut short at ${start}`);
  if (intro.readUInt32BE(0) !== HEADER_MAGIC) throw corrupt(path, `no header magic at byte ${start}`);
  const count = intro.readUInt32BE(8);
  const size = intro.readUInt32BE(12);
  const length = count * 16 + size;
  if (length > MAX_HEADER) throw corrupt(path, `implausible header size ${length} at byte ${start}`);
  const body = Buffer.alloc(length);
  if ((await file.read(body, 0, length, start + 16)).bytesRead < length) {
    throw corrupt(path, 'header cut short (incomplete download?)');
  }
  const store = body.subarray(count * 16);
  const tags = new Map<number, TagValue>();
  for (let i = 0; i < count; i++) {
    const tag = body.readUInt32BE(i * 16);
    const type = body.readUInt32BE(i * 16 + 4);
    const offset = body.readInt32BE(i * 16 + 8);
    const n = body.readUInt32BE(i * 16 + 12);
    try {
      tags.set(tag, readValue(store, type, offset, n, `tag ${tag}`));
    } catch (error) {
      throw corrupt(path, (error as Error).message);
    }
  }
  return { start, end: start + 16 + length, tags };
}

const str = (h: RpmHeader, tag: number): string | undefined => {
  const v = h.tags.get(tag);
  return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined;
};
const num = (h: RpmHeader, tag: number): number | bigint | undefined => {
  const v = h.tags.get(tag);
  return Array.isArray(v) && typeof v[0] !== 'string' ? v[0] : undefined;
};

/** Hashes a byte range of a file with several algorithms at once. */
async function hashRange(path: string, start: number, algos: string[]): Promise<Map<string, string>> {
  const hashes = algos.map((a) => createHash(a));
  for await (const chunk of createReadStream(path, { start, highWaterMark: 1 << 20 })) {
    for (const h of hashes) h.update(chunk as Buffer);
  }
  return new Map(algos.map((a, i) => [a, hashes[i]!.digest('hex')]));
}

/** Reads lead and headers of an RPM and verifies its digests (unless `verify: false`). */
export async function readRpm(path: string, options: { verify?: boolean } = {}): Promise<RpmInfo> {
  const file = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new SourceError(`${path}: cannot open: ${error.code ?? error.message}`, { hint: 'check the path' });
  });
  let sig: RpmHeader;
  let main: RpmHeader;
  let fileSize: number;
  let head: Buffer;
  let mainBytes: Buffer;
  try {
    fileSize = (await file.stat()).size;
    const lead = Buffer.alloc(LEAD_SIZE);
    if (
      (await file.read(lead, 0, LEAD_SIZE, 0)).bytesRead < LEAD_SIZE ||
      lead.readUInt32BE(0) !== LEAD_MAGIC
    ) {
      throw corrupt(path, 'no RPM lead (magic ed ab ee db)');
    }
    sig = await readHeaderAt(file, LEAD_SIZE, path);
    const mainStart = sig.end + ((8 - (sig.end % 8)) % 8);
    main = await readHeaderAt(file, mainStart, path);
    if (main.end > fileSize) throw corrupt(path, 'cut short');
    mainBytes = Buffer.alloc(main.end - main.start);
    await file.read(mainBytes, 0, mainBytes.length, main.start);
    head = Buffer.alloc(16);
    await file.read(head, 0, 16, main.end);
  } finally {
    await file.close();
  }
  const name = str(main, RPM_TAG.name);
  const version = str(main, RPM_TAG.version);
  const release = str(main, RPM_TAG.release);
  if (!name || !version || !release) throw corrupt(path, 'no NAME/VERSION/RELEASE in its header');
  const isSource = main.tags.has(RPM_TAG.sourcePackage) || !main.tags.has(RPM_TAG.sourceRpm);
  const payloadFormat = str(main, RPM_TAG.payloadFormat) ?? 'cpio';
  const compressor = str(main, RPM_TAG.payloadCompressor) ?? 'gzip';
  const sniffed = sniffCompression(head);
  const named: Record<string, Compression> = {
    gzip: 'gzip',
    xz: 'xz',
    lzma: 'lzma',
    zstd: 'zstd',
    bzip2: 'bzip2',
  };
  const compression = named[compressor] ?? sniffed;
  if (sniffed !== 'none' && sniffed !== compression) {
    throw corrupt(path, `header says ${compressor} but the payload starts like ${sniffed}`);
  }
  const info: RpmInfo = {
    path,
    name,
    version,
    release,
    arch: isSource ? 'src' : (str(main, RPM_TAG.arch) ?? 'noarch'),
    isSource,
    payloadFormat,
    compression,
    payloadOffset: main.end,
    fileSize,
    verified: [],
  };
  if (options.verify !== false) await verifyRpm(info, sig, main, mainBytes);
  return info;
}

async function verifyRpm(info: RpmInfo, sig: RpmHeader, main: RpmHeader, mainBytes: Buffer): Promise<void> {
  const { path } = info;
  const mismatch = (what: string, expected: string, actual: string) =>
    new KpatchError(
      'checksum',
      `${path}: ${what} mismatch: the RPM says ${expected}, its bytes give ${actual}`,
      {
        hint: 'the RPM is corrupt or was altered; delete it so it is downloaded again',
      },
    );
  const headerSha256 = str(sig, RPM_SIG_TAG.sha256);
  const headerSha1 = str(sig, RPM_SIG_TAG.sha1);
  if (headerSha256 || headerSha1) {
    const algo = headerSha256 ? 'sha256' : 'sha1';
    const actual = createHash(algo).update(mainBytes).digest('hex');
    const expected = (headerSha256 ?? headerSha1 ?? '').toLowerCase();
    if (actual !== expected) throw mismatch(`header ${algo}`, expected, actual);
    info.verified.push(`header ${algo}`);
  }
  const digests = main.tags.get(RPM_TAG.payloadDigest);
  const algoId = Number(num(main, RPM_TAG.payloadDigestAlgo) ?? 0);
  const payloadAlgo = ALGOS[algoId];
  const md5 = sig.tags.get(RPM_SIG_TAG.md5);
  const size = num(sig, RPM_SIG_TAG.longSize) ?? num(sig, RPM_SIG_TAG.size);
  const algos = new Set<string>();
  if (Array.isArray(digests) && typeof digests[0] === 'string' && payloadAlgo) algos.add(payloadAlgo);
  if (Buffer.isBuffer(md5)) algos.add('md5');
  if (algos.size === 0 && info.verified.length === 0) {
    throw new SourceError(`${path}: the RPM carries no digest to verify it by`, {
      hint: 'refusing an RPM whose integrity cannot be checked',
    });
  }
  if (size !== undefined && Number(size) !== info.fileSize - main.start) {
    throw corrupt(
      path,
      `header and payload are ${info.fileSize - main.start} bytes, the signature says ${size}`,
    );
  }
  if (algos.size === 0) return;
  // The payload digest covers the payload; the MD5 covers main header + payload.
  const payload = algos.has(payloadAlgo ?? '')
    ? await hashRange(path, info.payloadOffset, [payloadAlgo!])
    : undefined;
  if (payload && Array.isArray(digests)) {
    const expected = String(digests[0]).toLowerCase();
    const actual = payload.get(payloadAlgo!) ?? '';
    if (actual !== expected) throw mismatch(`payload ${payloadAlgo}`, expected, actual);
    info.verified.push(`payload ${payloadAlgo}`);
  }
  if (Buffer.isBuffer(md5)) {
    const actual = (await hashRange(path, main.start, ['md5'])).get('md5') ?? '';
    const expected = md5.toString('hex');
    if (actual !== expected) throw mismatch('header+payload md5', expected, actual);
    info.verified.push('header+payload md5');
  }
}
