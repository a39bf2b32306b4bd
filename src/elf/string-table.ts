/**
 * NUL-terminated string tables. Names are decoded as latin1 so every byte string survives a round trip
 * unchanged (ELF names are bytes, not text).
 */

/** The string at `offset` in `table`, or undefined when the offset is out of range or unterminated. */
export function stringAt(table: Buffer, offset: number): string | undefined {
  if (offset >= table.length) return undefined;
  const end = table.indexOf(0, offset);
  if (end < 0) return undefined;
  return table.toString('latin1', offset, end);
}

/** All NUL-terminated strings of a buffer in order (e.g. .modinfo); a trailing unterminated piece is kept. */
export function splitStrings(data: Buffer): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(0, start);
    if (end < 0) end = data.length;
    out.push(data.toString('latin1', start, end));
    start = end + 1;
  }
  return out;
}

/** NUL-terminated strings packed into a buffer, as in a string table. */
export function joinStrings(strings: readonly string[]): Buffer {
  return Buffer.from(strings.map((s) => `${s}\0`).join(''), 'latin1');
}

/**
 * Builds a string table that starts with the table as read (so unchanged names keep their offsets and
 * the bytes stay identical) and appends names that are not in it yet.
 */
export class StringTableBuilder {
  readonly #original: Buffer;
  readonly #added = new Map<string, number>();
  readonly #pieces: Buffer[] = [];
  #length: number;

  constructor(original: Buffer) {
    this.#original = original;
    this.#length = original.length;
    if (original.length === 0 || original[0] !== 0) this.#append('');
  }

  /** Offset of `name`; `previousOffset` (the offset it had when read) is reused when it still fits. */
  offsetOf(name: string, previousOffset = -1): number {
    if (name === '' && this.#original.length > 0 && this.#original[0] === 0) return 0;
    if (previousOffset >= 0 && this.#holdsAt(previousOffset, name)) return previousOffset;
    const added = this.#added.get(name);
    if (added !== undefined) return added;
    const existing = this.#original.indexOf(Buffer.from(`${name}\0`, 'latin1'));
    if (existing >= 0) {
      this.#added.set(name, existing);
      return existing;
    }
    return this.#append(name);
  }

  /** The finished table: the original bytes followed by the appended names. */
  finish(): Buffer {
    if (this.#pieces.length === 0) return this.#original;
    return Buffer.concat([this.#original, ...this.#pieces], this.#length);
  }

  #holdsAt(offset: number, name: string): boolean {
    const end = offset + name.length;
    const table = this.#original;
    return end < table.length && table[end] === 0 && table.toString('latin1', offset, end) === name;
  }

  #append(name: string): number {
    const offset = this.#length;
    const bytes = Buffer.from(`${name}\0`, 'latin1');
    this.#pieces.push(bytes);
    this.#length += bytes.length;
    this.#added.set(name, offset);
    return offset;
  }
}
