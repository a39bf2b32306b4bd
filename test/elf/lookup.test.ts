import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ElfFile } from '../../src/elf/index.js';
import {
  allRelocations,
  findSection,
  findSymbol,
  groupOf,
  parseElf,
  R_X86_64_PLT32,
  relocationSectionFor,
  relocationsOf,
  SHN_ABS,
  SHN_COMMON,
  STB_GLOBAL,
  STB_LOCAL,
  sectionIndex,
  sectionsByName,
  symbolsByName,
  symbolsInSection,
} from '../../src/elf/index.js';
import type { TestObjects } from './support/build-objects.js';
import {
  buildTestObjects,
  compile,
  linkRelocatable,
  readelf,
  removeTempDir,
} from './support/build-objects.js';
import { parseRelocationListing } from './support/readelf-tables.js';

let objects: TestObjects;
let kernel: ElfFile;
let combined: ElfFile;
let common: ElfFile;
let clashing: ElfFile;
beforeAll(async () => {
  objects = await buildTestObjects('lookup');
  kernel = parseElf(await readFile(objects.kernelObject));
  combined = parseElf(await readFile(objects.combinedObject));
  const commonObject = await compile(objects.dir, 'common.c', 'int tentative;\n', ['-c', '-fcommon']);
  common = parseElf(await readFile(commonObject));
  const other = await compile(
    objects.dir,
    'clash.c',
    'static int counter;\nstatic int __attribute__((used)) dispatch(void) { return counter++; }\n',
    ['-c', '-O2'],
  );
  clashing = parseElf(
    await readFile(await linkRelocatable(objects.dir, 'clash-linked.o', [objects.kernelObject, other])),
  );
});
afterAll(() => removeTempDir(objects?.dir));

describe('lookups', () => {
  it('finds sections and symbols by name, preferring a global symbol over a local one', () => {
    expect(findSection(kernel, '.text.dispatch')?.size).toBeGreaterThan(0);
    expect(findSection(kernel, '.no.such')).toBeUndefined();
    const dispatch = findSymbol(kernel, 'dispatch')!;
    expect([dispatch.bind, dispatch.section?.name]).toEqual([STB_GLOBAL, '.text.dispatch']);
    // Two files with a static `counter`, and a static `dispatch` next to the global one.
    const counters = symbolsByName(clashing).get('counter')!;
    expect(counters.map((s) => s.bind)).toEqual([STB_LOCAL, STB_LOCAL]);
    expect(counters[0]!.section).not.toBe(counters[1]!.section);
    expect(findSymbol(clashing, 'counter')).toBe(counters[0]);
    expect(symbolsByName(clashing).get('dispatch')?.length).toBe(2);
    expect(findSymbol(clashing, 'dispatch')?.bind).toBe(STB_GLOBAL);
    expect(sectionsByName(combined).get('.text')?.length).toBeGreaterThanOrEqual(1);
  });

  it('keeps reserved section indices of symbols as numbers', () => {
    expect(findSymbol(kernel, 'kernel-like.c')?.specialIndex).toBe(SHN_ABS);
    const tentative = findSymbol(common, 'tentative')!;
    expect([tentative.section, tentative.specialIndex]).toEqual([undefined, SHN_COMMON]);
  });

  it('lists symbols of a section and the relocations that patch it', async () => {
    const text = findSection(kernel, '.text.exported')!;
    expect(
      symbolsInSection(kernel, text)
        .map((s) => s.name)
        .sort(),
    ).toEqual(['', 'aliased', 'exported'].sort());
    expect(relocationSectionFor(kernel, text)?.name).toBe('.rela.text.exported');
    const listing = parseRelocationListing(await readelf(objects.kernelObject, ['-rW'])).get(
      '.rela.text.exported',
    )!;
    const ours = relocationsOf(kernel, text);
    expect(ours.map((r) => r.offset)).toEqual(listing.map((r) => r.offset));
    expect(ours[0]).toMatchObject({
      type: R_X86_64_PLT32,
      addend: -4n,
      symbol: findSymbol(kernel, '__fentry__'),
    });
    expect(relocationsOf(kernel, findSection(kernel, '.comment')!)).toEqual([]);
  });

  it('walks every relocation with its section and target', () => {
    const all = [...allRelocations(kernel)];
    const total = kernel.sections.reduce((n, s) => n + (s.relocations?.length ?? 0), 0);
    expect(all).toHaveLength(total);
    expect(all.every(({ section, target }) => section.info === target)).toBe(true);
  });

  it('reports groups and current section indices', () => {
    const grp = findSection(kernel, '.text.grp_fn')!;
    expect(groupOf(kernel, grp)?.group?.signature?.name).toBe('grp_fn');
    expect(groupOf(kernel, findSection(kernel, '.text.dispatch')!)).toBeUndefined();
    expect(sectionIndex(kernel, grp)).toBe(kernel.sections.indexOf(grp) + 1);
  });
});
