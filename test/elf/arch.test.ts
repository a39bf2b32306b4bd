import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AARCH64_RELOCATIONS,
  archForMachine,
  EM_AARCH64,
  EM_X86_64,
  parseElf,
  relocationTypeByName,
  relocationTypeName,
  X86_64_RELOCATIONS,
} from '../../src/elf/index.js';
import type { TestObjects } from './support/build-objects.js';
import { buildTestObjects, readelf, removeTempDir } from './support/build-objects.js';
import { parseRelocationListing } from './support/readelf-tables.js';

let objects: TestObjects;
let elfHeader: Map<string, number>;
beforeAll(async () => {
  objects = await buildTestObjects('arch');
  const text = await readFile('/usr/include/elf.h', 'latin1');
  elfHeader = new Map([...text.matchAll(/^#define\s+(R_\w+)\s+(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
});
afterAll(() => removeTempDir(objects?.dir));

describe('relocation tables', () => {
  it.each([
    ['x86_64', X86_64_RELOCATIONS],
    ['aarch64', AARCH64_RELOCATIONS],
  ])('%s type numbers agree with <elf.h>', (_, table) => {
    for (const info of table.byType.values())
      expect([info.name, elfHeader.get(info.name)]).toEqual([info.name, info.type]);
  });

  it.each([
    ['R_X86_64_PC32', 4, true],
    ['R_X86_64_PLT32', 4, true],
    ['R_X86_64_64', 8, false],
    ['R_X86_64_32S', 4, false],
    ['R_X86_64_PC64', 8, true],
    ['R_X86_64_8', 1, false],
    ['R_X86_64_REX_GOTPCRELX', 4, true],
  ])('%s patches %i bytes, pc-relative %s', (name, width, pcRelative) => {
    expect(X86_64_RELOCATIONS.byName.get(name)).toMatchObject({ width, pcRelative });
  });

  it('looks tables up by e_machine and names unknown types readably', () => {
    expect(archForMachine(EM_X86_64)?.name).toBe('x86_64');
    expect(archForMachine(EM_AARCH64)?.name).toBe('aarch64');
    expect(archForMachine(0xbeef)).toBeUndefined();
    expect(relocationTypeByName(EM_X86_64, 'R_X86_64_GOTPCRELX')).toBe(41);
    expect(relocationTypeName(EM_X86_64, 250)).toBe('R_UNKNOWN_62_250');
  });

  it('names every relocation of real objects as readelf does', async () => {
    for (const path of [objects.combinedObject, objects.executable]) {
      const elf = parseElf(await readFile(path));
      const listing = parseRelocationListing(await readelf(path, ['-rW']));
      let compared = 0;
      for (const section of elf.sections) {
        const rows = listing.get(section.name);
        if (!rows || !section.relocations) continue;
        expect(section.relocations.map((r) => relocationTypeName(elf.header.machine, r.type))).toEqual(
          rows.map((r) => r.type),
        );
        compared += rows.length;
      }
      expect(compared).toBeGreaterThan(50);
    }
  });
});
