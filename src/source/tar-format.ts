/**
 * Just enough of the tar format (ustar, GNU and PAX extensions) to inspect members as they stream by.
 * safe-extract.ts uses it to vet every member before GNU tar sees it; deb.ts uses it to read control.tar.
 * We parse ourselves instead of using node-tar's parser so that the way we measure a member's data
 * is under our control and can be kept identical to GNU tar's (see `dataSize`).
 */
import { SourceError } from '../errors.js';

export const BLOCK = 512;

export type TarEntryType =
  | 'file'
  | 'directory'
  | 'symlink'
  | 'hardlink'
  | 'char-device'
  | 'block-device'
  | 'fifo'
  | 'pax-header'
  | 'pax-global'
  | 'gnu-long-name'
  | 'gnu-long-link'
  | 'unsupported';

export interface TarHeader {
  /** Name from the header block alone (prefix + name); PAX/GNU long names are applied by the caller. */
  name: string;
  linkName: string;
  size: number;
  mode: number;
  typeFlag: string;
  type: TarEntryType;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '': 'file',
  '7': 'file', // contiguous file: a regular file everywhere that matters
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
  x: 'pax-header',
  g: 'pax-global',
  L: 'gnu-long-name',
  K: 'gnu-long-link',
};

/** Types that never carry data blocks; a nonzero size on them is refused (see `dataSize`). */
const NO_DATA: ReadonlySet<TarEntryType> = new Set([
  'hardlink',
  'symlink',
  'char-device',
  'block-device',
  'directory',
  'fifo',
]);

export function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function cString(block: Buffer, start: number, length: number): string {
  const end = block.indexOf(0, start);
  return block.toString('utf8', start, end === -1 || end > start + length ? start + length : end);
}

function numeric(block: Buffer, start: number, length: number): number {
  const first = block[start] ?? 0;
  if (first & 0x80) {
    // GNU base-256 for values that do not fit in octal; negative values are never valid here.
    if (first & 0x40) return Number.NaN;
    let value = first & 0x3f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + (block[i] ?? 0);
    return value;
  }
  const text = block
    .toString('latin1', start, start + length)
    .replace(/[\0 ]+$/, '')
    .trim();
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? Number.parseInt(text, 8) : Number.NaN;
}

function checksumMatches(block: Buffer): boolean {
  const stored = numeric(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

/** Parses one 512-byte header block. `where` names the archive for error messages. */
export function parseHeader(block: Buffer, where: string, offset: number): TarHeader {
  if (!checksumMatches(block)) {
    throw new SourceError(`${where}: bad tar header checksum at byte ${offset}`, {
      hint: 'the archive is corrupt or not a tar archive; delete it so it is downloaded again',
    });
  }
  const typeFlag = String.fromCharCode(block[156] ?? 0).replace('\0', '');
  const magic = block.toString('latin1', 257, 263);
  let name = cString(block, 0, 100);
  // POSIX ustar keeps a path prefix at 345; the old GNU format ("ustar  \0") uses that space for other things.
  if (magic === 'ustar\0') {
    const prefix = cString(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  const size = numeric(block, 124, 12);
  const mode = numeric(block, 100, 8);
  if (!Number.isSafeInteger(size) || size < 0 || Number.isNaN(mode)) {
    throw new SourceError(`${where}: malformed tar header for "${name}" at byte ${offset}`, {
      hint: 'the archive is corrupt; delete it so it is downloaded again',
    });
  }
  return {
    name,
    linkName: cString(block, 157, 100),
    size,
    mode,
    typeFlag,
    type: TYPES[typeFlag] ?? 'unsupported',
  };
}

/**
 * Bytes of data (unpadded) that follow a header. Types 1–6 carry none; we refuse a nonzero size there
 * instead of guessing, because tar implementations disagree (GNU tar and Python skip no data, node-tar
 * skips `size` bytes) and a validator that disagrees with the extractor can be fed a hidden member.
 */
export function dataSize(header: TarHeader, paxSize: number | undefined, where: string): number {
  const size = paxSize ?? header.size;
  if (NO_DATA.has(header.type) && size !== 0) {
    throw new SourceError(
      `${where}: member "${header.name}" of type ${header.type} claims ${size} bytes of data`,
      {
        hint: 'the archive is malformed or crafted; refusing to extract it',
      },
    );
  }
  return size;
}

/** Parses PAX extended header records ("<len> <key>=<value>\n"). */
export function parsePax(data: Buffer, where: string): Map<string, string> {
  const records = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // trailing NUL padding
    const space = data.indexOf(0x20, pos);
    const length = space === -1 ? Number.NaN : Number(data.toString('latin1', pos, space));
    if (
      !Number.isSafeInteger(length) ||
      length <= 0 ||
      pos + length > data.length ||
      data[pos + length - 1] !== 0x0a
    ) {
      throw new SourceError(`${where}: malformed PAX header record at offset ${pos}`, {
        hint: 'the archive is corrupt or crafted; refusing to extract it',
      });
    }
    const record = data.toString('utf8', space + 1, pos + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    pos += length;
  }
  return records;
}

/** Serialises PAX records into a complete 'x' member (header block + padded data). */
export function buildPaxMember(records: Map<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const body = ` ${key}=${value}\n`;
    const bodyLength = Buffer.byteLength(body);
    // The length prefix counts its own digits; grow it until it is self-consistent.
    let length = bodyLength + 1;
    while (String(length).length + bodyLength !== length) length = String(length).length + bodyLength;
    parts.push(Buffer.from(`${length}${body}`));
  }
  const data = Buffer.concat(parts);
  const header = Buffer.alloc(BLOCK);
  header.write('././@PaxHeader', 0, 'latin1');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('00000000000\0', 136, 'latin1');
  header.write('x', 156, 'latin1');
  header.write('ustar\x0000', 257, 'latin1');
  header.write('        ', 148, 'latin1');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return Buffer.concat([header, data, Buffer.alloc(padded(data.length) - data.length)]);
}

/** Reads a NUL-terminated GNU long name/link payload. */
export function longNameOf(data: Buffer): string {
  const end = data.indexOf(0);
  return data.toString('utf8', 0, end === -1 ? data.length : end);
}

export interface TarBufferEntry {
  path: string;
  linkPath: string;
  type: TarEntryType;
  mode: number;
  data: Buffer;
}

/** Walks a small tar held in memory (e.g. a .deb's control.tar), applying PAX and GNU long names. */
export function* readTarBuffer(tar: Buffer, where: string): Generator<TarBufferEntry> {
  let pos = 0;
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  while (pos + BLOCK <= tar.length) {
    const block = tar.subarray(pos, pos + BLOCK);
    if (isZeroBlock(block)) return;
    const header = parseHeader(block, where, pos);
    const paxSize = pax.has('size') ? Number(pax.get('size')) : undefined;
    const size = dataSize(header, paxSize, where);
    const data = tar.subarray(pos + BLOCK, pos + BLOCK + size);
    if (data.length < size)
      throw new SourceError(`${where}: truncated tar archive`, { hint: 'the archive is corrupt' });
    pos += BLOCK + padded(size);
    if (header.type === 'pax-header') {
      pax = new Map([...pax, ...parsePax(data, where)]);
    } else if (header.type === 'gnu-long-name') {
      longName = longNameOf(data);
    } else if (header.type === 'gnu-long-link') {
      longLink = longNameOf(data);
    } else if (header.type !== 'pax-global') {
      yield {
        path: pax.get('path') ?? longName ?? header.name,
        linkPath: pax.get('linkpath') ?? longLink ?? header.linkName,
        type: header.type,
        mode: header.mode,
        data,
      };
      pax = new Map();
      longName = undefined;
      longLink = undefined;
    }
  }
}
