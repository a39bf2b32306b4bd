import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ElfFile } from '../../src/elf/index.js';
import { parseElf, serializeElf } from '../../src/elf/index.js';
import { ElfFormatError } from '../../src/errors.js';
import type { TestObjects } from './support/build-objects.js';
import { buildTestObjects, removeTempDir } from './support/build-objects.js';

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Range = readonly [start: number, end: number];

/** Byte ranges worth corrupting: ELF header, section headers, symbol table, relocation and group sections. */
function interestingRanges(bytes: Buffer): Range[] {
  const elf = parseElf(bytes);
  const shoff = Number(bytes.readBigUInt64LE(40));
  const ranges: Range[] = [
    [0, 64],
    [shoff, shoff + (elf.sections.length + 1) * 64],
  ];
  for (const s of elf.sections) {
    const origin = s.origin!;
    if (origin.size > 0 && ['.symtab', '.strtab', '.shstrtab', '.group'].includes(s.name)) {
      ranges.push([origin.offset, origin.offset + origin.size]);
    } else if (origin.size > 0 && s.relocations) {
      ranges.push([origin.offset, origin.offset + Math.min(origin.size, 24 * 8)]);
    }
  }
  return ranges;
}

const INTERESTING_VALUES = [
  0n,
  1n,
  2n,
  3n,
  0x40n,
  0xffn,
  0xff00n,
  0xfff1n,
  0xffffn,
  0x7fffffffn,
  0xffffffffn,
  1n << 40n,
];

function mutate(original: Buffer, ranges: readonly Range[], random: () => number): Buffer {
  const pick = (n: number) => Math.floor(random() * n);
  if (random() < 0.15) return Buffer.from(original.subarray(0, pick(original.length)));
  const bytes = Buffer.from(original);
  const edits = 1 + pick(4);
  for (let i = 0; i < edits; i++) {
    const [start, end] = ranges[pick(ranges.length)]!;
    const at = start + pick(Math.max(1, end - start));
    const kind = random();
    if (kind < 0.4) bytes[at] = pick(256);
    else if (kind < 0.7) bytes[at] = (bytes[at] ?? 0) ^ (1 << pick(8));
    else {
      const value = INTERESTING_VALUES[pick(INTERESTING_VALUES.length)]!;
      const width = [2, 4, 8][pick(3)]!;
      for (let b = 0; b < width && at + b < bytes.length; b++)
        bytes[at + b] = Number((value >> BigInt(8 * b)) & 0xffn);
    }
  }
  return bytes;
}

/** Everything a caller may do with a successfully parsed file; only ElfFormatError may come out. */
function exercise(elf: ElfFile): void {
  for (const section of elf.sections) void section.relocations?.length;
  const output = serializeElf(elf);
  const again = parseElf(output, { file: 'rewritten' });
  expect(again.sections.length).toBe(elf.sections.length);
  expect(again.symbols.length).toBe(elf.symbols.length);
}

let objects: TestObjects;
beforeAll(async () => {
  objects = await buildTestObjects('fuzz');
});
afterAll(() => removeTempDir(objects?.dir));

const TARGETS = [
  { label: 'gcc object with many sections', pick: (o: TestObjects) => o.kernelObject, seed: 1, cases: 3000 },
  { label: 'ld -r module', pick: (o: TestObjects) => o.moduleObject, seed: 2, cases: 2500 },
  { label: 'ld -r combined object', pick: (o: TestObjects) => o.combinedObject, seed: 3, cases: 2500 },
  { label: 'executable', pick: (o: TestObjects) => o.executable, seed: 4, cases: 2000 },
] as const;

describe('mutation fuzz', () => {
  it.each(TARGETS)(
    '$label: $cases mutations parse or fail with ElfFormatError only',
    async ({ pick, seed, cases }) => {
      const original = await readFile(pick(objects));
      const ranges = interestingRanges(original);
      const random = prng(seed);
      const outcomes = { parsed: 0, rejected: 0, rejectedOnWrite: 0 };
      for (let i = 0; i < cases; i++) {
        const input = mutate(original, ranges, random);
        let elf: ElfFile;
        try {
          elf = parseElf(input, { file: 'fuzzed' });
        } catch (error) {
          if (!(error instanceof ElfFormatError))
            throw new Error(`case ${i} (seed ${seed}): parse threw ${error}`);
          outcomes.rejected++;
          continue;
        }
        outcomes.parsed++;
        try {
          exercise(elf);
        } catch (error) {
          if (!(error instanceof ElfFormatError))
            throw new Error(`case ${i} (seed ${seed}): write threw ${error}`);
          outcomes.rejectedOnWrite++;
        }
      }
      // Both outcomes must really occur, or the mutations are not reaching the reader's checks.
      expect(outcomes.parsed).toBeGreaterThan(cases / 20);
      expect(outcomes.rejected).toBeGreaterThan(cases / 20);
    },
  );
});
