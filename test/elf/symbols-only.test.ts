import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSection, readElfFile, serializeElf } from '../../src/elf/index.js';
import type { TestObjects } from './support/build-objects.js';
import { buildTestObjects, removeTempDir } from './support/build-objects.js';

let objects: TestObjects;
beforeAll(async () => {
  objects = await buildTestObjects('symbols-only');
});
afterAll(() => removeTempDir(objects?.dir));

describe('readElfFile with symbolsOnly', () => {
  it.each([
    ['executable', (o: TestObjects) => o.executable],
    ['module', (o: TestObjects) => o.moduleObject],
  ])(
    '%s: gives the same symbols and section headers as a full read, without section data',
    async (_, pick) => {
      const full = await readElfFile(pick(objects));
      const light = await readElfFile(pick(objects), { symbolsOnly: true });
      const describe = (elf: typeof full) =>
        elf.symbols.map((s) => [s.name, s.value, s.size, s.bind, s.type, s.section?.name, s.specialIndex]);
      expect(describe(light)).toEqual(describe(full));
      expect(light.sections.map((s) => [s.name, s.type, s.size, s.addr])).toEqual(
        full.sections.map((s) => [s.name, s.type, s.size, s.addr]),
      );
      const text = findSection(light, '.text.my_export') ?? findSection(light, '.text')!;
      expect(text.dataLoaded).toBe(false);
      expect(text.size).toBeGreaterThan(0);
      expect(light.symtab?.dataLoaded).toBe(true);
      expect(() => serializeElf(light)).toThrow(/symbolsOnly/);
    },
  );
});
