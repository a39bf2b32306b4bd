import { endianness } from 'node:os';
import { SourceError } from '../errors.js';
import type { ObjectSymbol } from './resolve-sympos.js';

/**
 * A compact, read-only symbol table of one object (vmlinux), in the form it is cached on disk: names sorted
 * for binary search, each name's symbols in the order the kernel counts sympos in. Loading it is one file
 * read; a lookup decodes only the entries it touches, so a 100k-symbol vmlinux costs a few milliseconds.
 *
 * Layout (little-endian), version 2 (names sorted by their UTF-8 bytes):
 *   0  magic "KLPSYMX\0"        8  u32 version           12 u32 symbol count
 *   16 u32 name count           20 u32 file count        24 u32 strings offset   28 u32 strings length
 *   32 names:   name count x { u32 string offset, u32 string length, u32 first symbol }
 *      symbols: symbol count x { u32 address low, u32 address high, u32 file + 1 (0: none), u8 type, 3 pad }
 *      files:   file count x { u32 string offset, u32 string length }
 *      strings: UTF-8 names and file names
 */
const MAGIC = Buffer.from('KLPSYMX\0', 'latin1');
export const SYMBOL_INDEX_VERSION = 2;
const HEADER_SIZE = 32;
const NAME_ENTRY = 12;
const SYMBOL_ENTRY = 16;
const FILE_ENTRY = 8;

/** One symbol handed to the builder, in kernel order. */
export interface IndexEntry {
  name: string;
  address: bigint;
  /** nm-style type letter. */
  type: string;
  file?: string | undefined;
}

export class SymbolIndex {
  readonly #buffer: Buffer;
  readonly #label: string;
  readonly #symbolCount: number;
  readonly #nameCount: number;
  readonly #namesAt = HEADER_SIZE;
  readonly #symbolsAt: number;
  readonly #filesAt: number;
  readonly #stringsAt: number;
  /** The names table as numbers (string offset, length, first symbol), for the binary search. */
  readonly #names: Uint32Array;

  private constructor(buffer: Buffer, label: string) {
    this.#buffer = buffer;
    this.#label = label;
    const corrupt = (what: string) =>
      new SourceError(`${label}: not a usable symbol index: ${what}`, {
        hint: 'delete the file; klp-convert rebuilds it from the symbol source',
      });
    if (buffer.length < HEADER_SIZE || !buffer.subarray(0, 8).equals(MAGIC)) throw corrupt('bad magic');
    if (buffer.readUInt32LE(8) !== SYMBOL_INDEX_VERSION) throw corrupt(`version ${buffer.readUInt32LE(8)}`);
    this.#symbolCount = buffer.readUInt32LE(12);
    this.#nameCount = buffer.readUInt32LE(16);
    const fileCount = buffer.readUInt32LE(20);
    this.#symbolsAt = this.#namesAt + this.#nameCount * NAME_ENTRY;
    this.#filesAt = this.#symbolsAt + this.#symbolCount * SYMBOL_ENTRY;
    this.#stringsAt = buffer.readUInt32LE(24);
    const stringsLength = buffer.readUInt32LE(28);
    if (
      this.#stringsAt !== this.#filesAt + fileCount * FILE_ENTRY ||
      this.#stringsAt + stringsLength !== buffer.length
    )
      throw corrupt('inconsistent sizes');
    const at = buffer.byteOffset + this.#namesAt;
    if (endianness() === 'LE' && at % 4 === 0) {
      this.#names = new Uint32Array(buffer.buffer, at, this.#nameCount * 3);
    } else {
      this.#names = new Uint32Array(this.#nameCount * 3);
      for (let i = 0; i < this.#names.length; i++)
        this.#names[i] = buffer.readUInt32LE(this.#namesAt + i * 4);
    }
  }

  /** Reads a serialized index; throws SourceError when the bytes are not one. */
  static fromBuffer(buffer: Buffer, label = 'symbol index'): SymbolIndex {
    return new SymbolIndex(buffer, label);
  }

  /** Builds an index from symbols given in kernel order (the order sympos is counted in). */
  static build(entries: Iterable<IndexEntry>, label = 'symbol index'): SymbolIndex {
    return new SymbolIndex(serialize(entries), label);
  }

  /** The serialized form, as written to the cache. */
  get bytes(): Buffer {
    return this.#buffer;
  }

  get symbolCount(): number {
    return this.#symbolCount;
  }

  get label(): string {
    return this.#label;
  }

  /** The symbols called `name`, in kernel order (position N is element N-1). */
  lookup(name: string): ObjectSymbol[] {
    const at = this.#findName(name);
    if (at < 0) return [];
    const b = this.#buffer;
    const first = this.#names[at * 3 + 2]!;
    const end = at + 1 < this.#nameCount ? this.#names[at * 3 + 5]! : this.#symbolCount;
    const found: ObjectSymbol[] = [];
    for (let i = first; i < end; i++) {
      const p = this.#symbolsAt + i * SYMBOL_ENTRY;
      const address = (BigInt(b.readUInt32LE(p + 4)) << 32n) | BigInt(b.readUInt32LE(p));
      const symbol: ObjectSymbol = { name, address, type: String.fromCharCode(b[p + 12]!) };
      const file = b.readUInt32LE(p + 8);
      if (file > 0) {
        const f = this.#filesAt + (file - 1) * FILE_ENTRY;
        symbol.file = this.#string(b.readUInt32LE(f), b.readUInt32LE(f + 4));
      }
      found.push(symbol);
    }
    return found;
  }

  has(name: string): boolean {
    return this.#findName(name) >= 0;
  }

  #string(offset: number, length: number): string {
    const start = this.#stringsAt + offset;
    return this.#buffer.toString('utf8', start, start + length);
  }

  /** Binary search over the names, sorted by their UTF-8 bytes, comparing bytes without decoding. */
  #findName(name: string): number {
    const b = this.#buffer;
    const names = this.#names;
    const query = Buffer.from(name, 'utf8');
    let lo = 0;
    let hi = this.#nameCount - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const start = this.#stringsAt + names[mid * 3]!;
      const length = names[mid * 3 + 1]!;
      // Byte-wise comparison of the probe with the query (what Buffer.compare does, without the call).
      const common = Math.min(length, query.length);
      let i = 0;
      while (i < common && b[start + i] === query[i]) i++;
      const order = i < common ? b[start + i]! - query[i]! : length - query.length;
      if (order === 0) return mid;
      if (order < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/** Whether sorting by JavaScript string order equals sorting by UTF-8 bytes (true for ASCII names). */
const ASCII = /^[\x00-\x7f]*$/;

function serialize(entries: Iterable<IndexEntry>): Buffer {
  // Group symbols by name, keeping kernel order inside each group.
  const groups = new Map<string, IndexEntry[]>();
  let symbolCount = 0;
  let ascii = true;
  for (const entry of entries) {
    const group = groups.get(entry.name);
    if (group) group.push(entry);
    else {
      groups.set(entry.name, [entry]);
      if (ascii && !ASCII.test(entry.name)) ascii = false;
    }
    symbolCount++;
  }
  const names = [...groups.keys()];
  if (ascii) names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  else names.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  const fileNumbers = new Map<string, number>();
  for (const group of groups.values()) {
    for (const entry of group) {
      if (entry.file !== undefined && !fileNumbers.has(entry.file))
        fileNumbers.set(entry.file, fileNumbers.size);
    }
  }
  const files = [...fileNumbers.keys()];
  let stringsLength = 0;
  for (const name of names) stringsLength += Buffer.byteLength(name, 'utf8');
  for (const file of files) stringsLength += Buffer.byteLength(file, 'utf8');

  const symbolsAt = HEADER_SIZE + names.length * NAME_ENTRY;
  const filesAt = symbolsAt + symbolCount * SYMBOL_ENTRY;
  const stringsAt = filesAt + files.length * FILE_ENTRY;
  const out = Buffer.alloc(stringsAt + stringsLength);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(SYMBOL_INDEX_VERSION, 8);
  out.writeUInt32LE(symbolCount, 12);
  out.writeUInt32LE(names.length, 16);
  out.writeUInt32LE(files.length, 20);
  out.writeUInt32LE(stringsAt, 24);
  out.writeUInt32LE(stringsLength, 28);
  let text = 0;
  const addString = (value: string, at: number) => {
    const length = out.write(value, stringsAt + text, 'utf8');
    out.writeUInt32LE(text, at);
    out.writeUInt32LE(length, at + 4);
    text += length;
  };
  let symbol = 0;
  names.forEach((name, i) => {
    const entry = HEADER_SIZE + i * NAME_ENTRY;
    addString(name, entry);
    out.writeUInt32LE(symbol, entry + 8);
    for (const e of groups.get(name)!) {
      const p = symbolsAt + symbol * SYMBOL_ENTRY;
      // Address low and high words: one little-endian u64.
      out.writeBigUInt64LE(BigInt.asUintN(64, e.address), p);
      out.writeUInt32LE(e.file === undefined ? 0 : fileNumbers.get(e.file)! + 1, p + 8);
      out[p + 12] = e.type.charCodeAt(0) & 0xff;
      symbol++;
    }
  });
  files.forEach((file, i) => {
    addString(file, filesAt + i * FILE_ENTRY);
  });
  return out;
}
