import { parseElf } from '../../../src/elf/index.js';

/** Locates raw fields of a valid ELF64 file so tests can corrupt exactly one thing. */
export class ElfBytes {
  readonly buffer: Buffer;
  readonly #indexByName = new Map<string, number>();

  constructor(original: Buffer) {
    this.buffer = Buffer.from(original);
    parseElf(original).sections.forEach((s, i) => {
      if (!this.#indexByName.has(s.name)) this.#indexByName.set(s.name, i + 1);
    });
  }

  get sectionHeaderOffset(): number {
    return Number(this.buffer.readBigUInt64LE(40));
  }

  index(name: string): number {
    const index = this.#indexByName.get(name);
    if (index === undefined) throw new Error(`test fixture has no section ${name}`);
    return index;
  }

  /** File offset of the section header of `name` (or of a numeric index). */
  header(section: string | number): number {
    const index = typeof section === 'number' ? section : this.index(section);
    return this.sectionHeaderOffset + index * 64;
  }

  offset(section: string): number {
    return Number(this.buffer.readBigUInt64LE(this.header(section) + 24));
  }

  size(section: string): number {
    return Number(this.buffer.readBigUInt64LE(this.header(section) + 32));
  }

  setU16(at: number, value: number): this {
    this.buffer.writeUInt16LE(value, at);
    return this;
  }

  setU32(at: number, value: number): this {
    this.buffer.writeUInt32LE(value, at);
    return this;
  }

  setU64(at: number, value: bigint | number): this {
    this.buffer.writeBigUInt64LE(BigInt(value), at);
    return this;
  }

  /** Sets a section header field: name 0, type 4, flags 8, offset 24, size 32, link 40, info 44, align 48, entsize 56. */
  setHeaderField(section: string, field: 'name' | 'type' | 'link' | 'info', value: number): this {
    const at = { name: 0, type: 4, link: 40, info: 44 }[field];
    return this.setU32(this.header(section) + at, value);
  }

  setHeaderWide(
    section: string,
    field: 'flags' | 'offset' | 'size' | 'align' | 'entsize',
    value: bigint | number,
  ) {
    const at = { flags: 8, offset: 24, size: 32, align: 48, entsize: 56 }[field];
    return this.setU64(this.header(section) + at, value);
  }
}
