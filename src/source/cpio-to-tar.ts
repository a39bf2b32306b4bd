/**
 * Reads a cpio "newc" stream (the payload of an RPM: magic 070701 or 070702, ASCII-hex header fields)
 * and writes the same members as a tar stream (a PAX header carrying the exact name, then a ustar header),
 * so RPM payloads go through the same vetting (TarGuard) and extraction (GNU tar) as every other archive:
 * `..`, absolute names, writes through symlinks and device nodes are refused there.
 *
 * Member data is streamed, never held whole. Hard links (newc stores the data once, with the last name of
 * an inode) become tar hard links to the name that carries the data.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { SourceError } from '../errors.js';
import { BLOCK, buildPaxMember, padded } from './tar-format.js';
import { refuse } from './tree-paths.js';

const HEADER = 110;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** cpio file type → tar type flag; anything else (devices, FIFOs, sockets) is refused. */
const TYPES = new Map([
  [S_IFREG, '0'],
  [S_IFDIR, '5'],
  [S_IFLNK, '2'],
]);
const MAX_NAME = 1 << 16;
const MAX_LINK = 1 << 16;

interface CpioHeader {
  ino: string;
  mode: number;
  nlink: number;
  mtime: number;
  size: number;
  nameSize: number;
}

function ustar(type: string, size: number, mode: number, mtime: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const octal = (value: number, width: number) => `${value.toString(8).padStart(width - 1, '0')}\0`;
  header.write('cpio-member', 0, 'latin1'); // the PAX "path" record before it is the real name
  header.write(octal(mode & 0o7777, 8), 100, 'latin1');
  header.write(octal(0, 8), 108, 'latin1');
  header.write(octal(0, 8), 116, 'latin1');
  header.write(octal(size < 8 ** 11 ? size : 0, 12), 124, 'latin1');
  header.write(octal(Math.min(Math.max(mtime, 0), 8 ** 11 - 1), 12), 136, 'latin1');
  header.write(type, 156, 'latin1');
  header.write('ustar\x0000', 257, 'latin1');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return header;
}

type Mode = 'header' | 'name' | 'data' | 'pad' | 'end';

export class CpioToTar extends Transform {
  /** Members converted (hard links included). */
  members = 0;
  private mode: Mode = 'header';
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private need = HEADER;
  private header: CpioHeader | undefined;
  private name = '';
  private remaining = 0;
  private padAfter = 0;
  private linkChunks: Buffer[] = [];
  private offset = 0;
  /** Names of hard-linked inodes waiting for the member that carries the data. */
  private readonly links = new Map<string, string[]>();

  constructor(private readonly where: string) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.mode !== 'end') {
      callback(
        new SourceError(`${this.where}: cpio archive ends without its TRAILER!!! (at byte ${this.offset})`, {
          hint: 'the payload is truncated; delete the package so it is downloaded again',
        }),
      );
      return;
    }
    callback();
  }

  private consume(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && this.mode !== 'end') {
      if (this.mode === 'data') {
        const n = Math.min(this.remaining, chunk.length - pos);
        const piece = chunk.subarray(pos, pos + n);
        if (this.header && (this.header.mode & S_IFMT) === S_IFLNK) this.linkChunks.push(Buffer.from(piece));
        else this.push(piece);
        pos += n;
        this.offset += n;
        this.remaining -= n;
        if (this.remaining === 0) this.endData();
        continue;
      }
      const n = Math.min(this.need - this.pendingLength, chunk.length - pos);
      this.pending.push(chunk.subarray(pos, pos + n));
      this.pendingLength += n;
      pos += n;
      this.offset += n;
      if (this.pendingLength < this.need) continue;
      const block = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingLength = 0;
      if (this.mode === 'header') this.onHeader(block);
      else if (this.mode === 'name') this.onName(block);
      else this.startNext(); // pad consumed
    }
  }

  private startNext(): void {
    this.mode = 'header';
    this.need = HEADER;
  }

  private onHeader(block: Buffer): void {
    const magic = block.toString('latin1', 0, 6);
    if (magic !== '070701' && magic !== '070702') {
      const hint = magic === '07070X' ? ' (RPM large-file format is not supported)' : '';
      throw new SourceError(`${this.where}: bad cpio header at byte ${this.offset - HEADER}${hint}`, {
        hint: 'the payload is not a newc cpio archive, or it is corrupt',
      });
    }
    const field = (i: number) => {
      const text = block.toString('latin1', 6 + 8 * i, 14 + 8 * i);
      if (!/^[0-9a-fA-F]{8}$/.test(text)) {
        throw new SourceError(`${this.where}: malformed cpio header at byte ${this.offset - HEADER}`, {
          hint: 'the payload is corrupt',
        });
      }
      return Number.parseInt(text, 16);
    };
    this.header = {
      ino: `${field(7)}:${field(8)}:${field(0)}`,
      mode: field(1),
      nlink: field(4),
      mtime: field(5),
      size: field(6),
      nameSize: field(11),
    };
    if (this.header.nameSize === 0 || this.header.nameSize > MAX_NAME) {
      throw new SourceError(`${this.where}: cpio member name of ${this.header.nameSize} bytes`, {
        hint: 'the payload is corrupt',
      });
    }
    this.mode = 'name';
    this.need = this.header.nameSize + ((4 - ((HEADER + this.header.nameSize) % 4)) % 4);
  }

  private onName(block: Buffer): void {
    const header = this.header!;
    const raw = block.subarray(0, header.nameSize);
    if (raw[raw.length - 1] !== 0 || raw.subarray(0, -1).includes(0)) {
      throw refuse(this.where, raw.toString('utf8').replaceAll('\0', '\\0'), 'name contains a NUL byte');
    }
    this.name = raw.toString('utf8', 0, raw.length - 1);
    if (this.name === 'TRAILER!!!') {
      this.flushLinks();
      this.push(Buffer.alloc(2 * BLOCK));
      this.mode = 'end';
      return;
    }
    const type = TYPES.get(header.mode & S_IFMT);
    if (type === undefined) {
      throw refuse(this.where, this.name, `file type 0${(header.mode & S_IFMT).toString(8)} is not allowed`);
    }
    if (type === '2' && header.size > MAX_LINK)
      throw refuse(this.where, this.name, 'symlink target too long');
    this.padAfter = (4 - (header.size % 4)) % 4;
    this.remaining = header.size;
    this.linkChunks = [];
    if (type === '0' && header.nlink > 1 && header.size === 0) {
      // An earlier name of a hard-linked file; the data comes with a later name.
      const names = this.links.get(header.ino) ?? [];
      names.push(this.name);
      this.links.set(header.ino, names);
      this.afterData();
      return;
    }
    if (type !== '2') this.emit0(type, this.name, header.size, header.mode, undefined);
    this.mode = 'data';
    if (this.remaining === 0) this.endData();
  }

  private emit0(type: string, name: string, size: number, mode: number, link: string | undefined): void {
    const records = new Map([['path', type === '5' ? `${name}/` : name]]);
    if (link !== undefined) records.set('linkpath', link);
    if (size >= 8 ** 11) records.set('size', String(size));
    this.push(buildPaxMember(records));
    this.push(ustar(type, type === '0' ? size : 0, mode, this.header?.mtime ?? 0));
    this.members++;
  }

  private endData(): void {
    const header = this.header!;
    const type = TYPES.get(header.mode & S_IFMT);
    if (type === '2') {
      this.emit0('2', this.name, 0, header.mode, Buffer.concat(this.linkChunks).toString('utf8'));
    } else if (type === '0') {
      const tail = padded(header.size) - header.size;
      if (tail > 0) this.push(Buffer.alloc(tail));
      const earlier = this.links.get(header.ino);
      if (earlier) {
        this.links.delete(header.ino);
        for (const name of earlier) this.emit0('1', name, 0, header.mode, this.name);
      }
    }
    this.afterData();
  }

  private afterData(): void {
    if (this.padAfter > 0) {
      this.mode = 'pad';
      this.need = this.padAfter;
    } else this.startNext();
  }

  /** Hard-linked names whose data member never came: they are empty files. */
  private flushLinks(): void {
    for (const names of this.links.values()) {
      const [first, ...rest] = names;
      if (first === undefined) continue;
      this.emit0('0', first, 0, 0o644, undefined);
      for (const name of rest) this.emit0('1', name, 0, 0o644, first);
    }
    this.links.clear();
  }
}
