import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ET_REL, parseElf, readElfFile, SHT_GROUP, serializeElf, writeElfFile } from '../../src/elf/index.js';
import type { TestObjects } from './support/build-objects.js';
import { buildTestObjects, readelf, removeTempDir } from './support/build-objects.js';

let objects: TestObjects;
beforeAll(async () => {
  objects = await buildTestObjects('round-trip');
});
afterAll(() => removeTempDir(objects?.dir));

const CASES = [
  { label: 'gcc kernel-flags object', pick: (o: TestObjects) => o.kernelObject },
  { label: 'ld -r module (.ko)', pick: (o: TestObjects) => o.moduleObject },
  { label: 'g++ COMDAT object', pick: (o: TestObjects) => o.comdatObject },
  { label: 'ld -r combined object', pick: (o: TestObjects) => o.combinedObject },
  { label: 'executable with --emit-relocs', pick: (o: TestObjects) => o.executable },
] as const;

describe('round trip of unmodified files', () => {
  it.each(CASES)('$label is rewritten byte for byte and readelf -aW shows the same', async ({ pick }) => {
    const path = pick(objects);
    const input = await readFile(path);
    const output = serializeElf(parseElf(input, { file: path }));
    expect(output.equals(input)).toBe(true);
    const copy = join(objects.dir, 'copy.o');
    await writeElfFile(copy, await readElfFile(path));
    expect(await readelf(copy)).toBe(await readelf(path));
  });

  it('the kernel-like object has the features the round trip is meant to cover', async () => {
    const elf = await readElfFile(objects.kernelObject);
    expect(elf.header.type).toBe(ET_REL);
    const names = elf.sections.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        '__mcount_loc',
        '.rela__mcount_loc',
        '.rela.eh_frame',
        '.tbss.tls_var',
        '.rela.data.my_ops',
      ]),
    );
    expect(elf.sections.filter((s) => s.type === SHT_GROUP)).toHaveLength(1);
    expect(elf.sections.length).toBeGreaterThan(30);
  });

  it('relocations decoded from the executable match readelf -r after a rewrite with decoding forced', async () => {
    const elf = await readElfFile(objects.executable);
    const before = await readelf(objects.executable, ['-rW']);
    let count = 0;
    for (const section of elf.sections) count += section.relocations?.length ?? 0;
    expect(count).toBeGreaterThan(20);
    // Decoded relocations are re-encoded (not copied) now; the bytes must still be identical.
    const output = serializeElf(elf);
    expect(output.equals(await readFile(objects.executable))).toBe(true);
    const copy = join(objects.dir, 'program-copy');
    await writeElfFile(copy, elf);
    expect(await readelf(copy, ['-rW'])).toBe(before);
  });
});
