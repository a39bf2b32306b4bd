import { formatError } from './byte-source.js';
import type { ElfSection } from './section.js';
import { stringAt } from './string-table.js';

export type IntegerWidth = 1 | 2 | 4 | 8;

function checkedOffset(section: ElfSection, offset: number | bigint, width: number): number {
  const at = Number(offset);
  if (!Number.isInteger(at) || at < 0 || at + width > section.data.length) {
    throw formatError(
      undefined,
      `offset ${offset} (+${width} bytes) is outside the data of section ${section.name} (size ${section.data.length})`,
    );
  }
  return at;
}

/** The little-endian integer at `offset` of the section data, e.g. a relocation site or a table entry. */
export function readSectionInt(
  section: ElfSection,
  offset: number | bigint,
  width: IntegerWidth,
  signed = false,
): bigint {
  const at = checkedOffset(section, offset, width);
  const data = section.data;
  if (width === 8) return signed ? data.readBigInt64LE(at) : data.readBigUInt64LE(at);
  return BigInt(signed ? data.readIntLE(at, width) : data.readUIntLE(at, width));
}

/**
 * Stores `value` at `offset` as a `width`-byte little-endian integer; negative values are stored in two's
 * complement. Writes into the section data in place (for a parsed file, a view of the input buffer).
 */
export function writeSectionInt(
  section: ElfSection,
  offset: number | bigint,
  width: IntegerWidth,
  value: bigint,
): void {
  const at = checkedOffset(section, offset, width);
  const bits = BigInt(width * 8);
  if (value < -(1n << (bits - 1n)) || value >= 1n << bits) {
    throw formatError(
      undefined,
      `value ${value} does not fit ${width} bytes at offset ${at} of section ${section.name}`,
    );
  }
  const stored = BigInt.asUintN(width * 8, value);
  if (width === 8) section.data.writeBigUInt64LE(stored, at);
  else section.data.writeUIntLE(Number(stored), at, width);
}

/** The NUL-terminated string at `offset` of the section data (e.g. in .modinfo or __ksymtab_strings). */
export function readSectionString(section: ElfSection, offset: number | bigint): string {
  const at = Number(offset);
  const value = Number.isInteger(at) && at >= 0 ? stringAt(section.data, at) : undefined;
  if (value === undefined) {
    throw formatError(undefined, `no NUL-terminated string at offset ${offset} of section ${section.name}`);
  }
  return value;
}
