import { describe, expect, it } from 'vitest';
import type { IntegerWidth } from '../../src/elf/index.js';
import {
  ElfSection,
  readSectionInt,
  readSectionString,
  SHT_PROGBITS,
  writeSectionInt,
} from '../../src/elf/index.js';
import { ElfFormatError } from '../../src/errors.js';

function section(bytes: number[]): ElfSection {
  return new ElfSection({ name: '.data.test', type: SHT_PROGBITS, data: Buffer.from(bytes) });
}

describe('readSectionInt / writeSectionInt', () => {
  it.each([
    { width: 1, value: 0x7fn, bytes: [0x7f] },
    { width: 1, value: -1n, bytes: [0xff], readBack: 0xffn },
    { width: 2, value: 0x1234n, bytes: [0x34, 0x12] },
    { width: 4, value: -4n, bytes: [0xfc, 0xff, 0xff, 0xff], readBack: 0xfffffffcn },
    { width: 8, value: 0xffffffff81000000n, bytes: [0, 0, 0, 0x81, 0xff, 0xff, 0xff, 0xff] },
  ])('width $width stores $value little-endian', ({ width, value, bytes, readBack }) => {
    const s = section([0xaa, ...new Array(8).fill(0), 0xbb]);
    writeSectionInt(s, 1, width as IntegerWidth, value);
    expect([...s.data.subarray(1, 1 + width)]).toEqual(bytes);
    expect(s.data[0]).toBe(0xaa);
    expect(s.data[9]).toBe(0xbb);
    expect(readSectionInt(s, 1n, width as IntegerWidth)).toBe(readBack ?? value);
  });

  it('reads signed values', () => {
    const s = section([0xfc, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(readSectionInt(s, 0, 4, true)).toBe(-4n);
    expect(readSectionInt(s, 4, 8, true)).toBe(-2n);
  });

  it.each([
    [
      'past the end',
      () => readSectionInt(section([1, 2, 3]), 0, 4),
      'is outside the data of section .data.test',
    ],
    ['negative offset', () => readSectionInt(section([1, 2, 3]), -1, 1), 'is outside the data'],
    ['value too wide', () => writeSectionInt(section([0, 0]), 0, 2, 0x10000n), 'does not fit 2 bytes'],
    ['value too negative', () => writeSectionInt(section([0]), 0, 1, -129n), 'does not fit 1 bytes'],
    ['no string there', () => readSectionString(section([0x41, 0x42]), 0), 'no NUL-terminated string'],
  ])('%s raises ElfFormatError', (_, action, phrase) => {
    expect(action).toThrowError(ElfFormatError);
    expect(action).toThrow(phrase);
  });

  it('reads a NUL-terminated string', () => {
    expect(readSectionString(section([0x61, 0x3d, 0x62, 0, 0x63, 0]), 4)).toBe('c');
  });
});
