import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ElfFile } from '../../src/elf/index.js';
import {
  addRelocation,
  addSection,
  addSymbol,
  createSymbol,
  findSection,
  findSymbol,
  groupOf,
  parseElf,
  R_X86_64_64,
  R_X86_64_PC32,
  R_X86_64_PLT32,
  relocationsOf,
  removeRelocations,
  removeSection,
  removeSymbol,
  renameSection,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHT_PROGBITS,
  STB_GLOBAL,
  STB_LOCAL,
  STT_FUNC,
  STT_OBJECT,
  sectionSymbol,
  serializeElf,
  writeElfFile,
} from '../../src/elf/index.js';
import { ElfFormatError } from '../../src/errors.js';
import type { TestObjects } from './support/build-objects.js';
import { buildTestObjects, readelf, removeTempDir } from './support/build-objects.js';
import { parseRelocationListing, parseSymbolListing, relocationFacts } from './support/readelf-tables.js';

let objects: TestObjects;
beforeAll(async () => {
  objects = await buildTestObjects('edit');
});
afterAll(() => removeTempDir(objects?.dir));

async function load(path: string): Promise<ElfFile> {
  return parseElf(await readFile(path), { file: path });
}

let outputCounter = 0;
/** Writes `elf`, checks that ld -r accepts it and that it parses again; returns the path. */
async function writeAndCheck(elf: ElfFile): Promise<string> {
  const path = join(objects.dir, `edited-${outputCounter++}.o`);
  await writeElfFile(path, elf);
  await execa('ld', ['-r', '-o', `${path}.linked.o`, path]);
  parseElf(await readFile(path), { file: path });
  const listing = await readelf(path, ['-aW']);
  expect(listing).not.toMatch(/readelf: (Warning|Error)/);
  return path;
}

describe('renaming', () => {
  it('renames a section with its .rela section and a symbol; relocations follow the symbol', async () => {
    const elf = await load(objects.kernelObject);
    renameSection(elf, findSection(elf, '.text.exported')!, '.text.exported_v2');
    findSymbol(elf, 'exported')!.name = 'exported_v2';
    const path = await writeAndCheck(elf);

    const sections = await readelf(path, ['-SW']);
    expect(sections).toContain(' .text.exported_v2 ');
    expect(sections).toContain(' .rela.text.exported_v2 ');
    expect(sections).not.toMatch(/ \.text\.exported /);
    const relocations = parseRelocationListing(await readelf(path, ['-rW']));
    // grp_fn's `call exported` is the relocation at offset 1 of .text.grp_fn.
    expect(relocations.get('.rela.text.grp_fn')?.[0]).toMatchObject({
      offset: 1n,
      type: 'R_X86_64_PLT32',
      target: 'exported_v2 - 4',
    });
    const symbols = parseSymbolListing(await readelf(path, ['-sW']));
    expect(symbols.find((s) => s.name === 'exported_v2')).toMatchObject({ type: 'FUNC', bind: 'GLOBAL' });
    expect(symbols.some((s) => s.name === 'exported')).toBe(false);
  });
});

describe('adding', () => {
  it('adds a section with relocations against a new undefined symbol and an existing one', async () => {
    const elf = await load(objects.kernelObject);
    const code = Buffer.from([0xe8, 0, 0, 0, 0, 0x8b, 0x05, 0, 0, 0, 0, 0xc3]); // call x; mov x(%rip),%eax; ret
    const text = addSection(elf, {
      name: '.text.klp_new',
      type: SHT_PROGBITS,
      flags: SHF_ALLOC | SHF_EXECINSTR,
      addralign: 16,
      data: code,
    });
    addSymbol(elf, { name: 'klp_new', bind: STB_GLOBAL, type: STT_FUNC, section: text, size: 12n });
    const external = addSymbol(elf, { name: 'new_external' });
    addRelocation(elf, text, { offset: 1n, type: R_X86_64_PLT32, symbol: external, addend: -4n });
    addRelocation(elf, text, {
      offset: 7n,
      type: R_X86_64_PC32,
      symbol: findSymbol(elf, 'global_var'),
      addend: -4n,
    });
    const path = await writeAndCheck(elf);

    const rows = parseRelocationListing(await readelf(path, ['-rW'])).get('.rela.text.klp_new');
    expect(rows?.map((r) => [r.offset, r.type, r.target])).toEqual([
      [1n, 'R_X86_64_PLT32', 'new_external - 4'],
      [7n, 'R_X86_64_PC32', 'global_var - 4'],
    ]);
    const symbols = parseSymbolListing(await readelf(path, ['-sW']));
    const klpNew = symbols.find((s) => s.name === 'klp_new');
    const sectionList = await readelf(path, ['-SW']);
    const textIndex = /\[\s*(\d+)\] \.text\.klp_new /.exec(sectionList)?.[1];
    expect(klpNew).toMatchObject({ ndx: textIndex, size: 12, type: 'FUNC' });
    expect(symbols.find((s) => s.name === 'new_external')?.ndx).toBe('UND');
    expect(rows?.[0]?.symbolIndex).toBe(symbols.find((s) => s.name === 'new_external')?.index);
  });

  it('a local symbol appended after the globals is written before them and every r_info follows', async () => {
    const elf = await load(objects.moduleObject);
    const before = relocationFacts(await readelf(objects.moduleObject, ['-rW']));
    const data = findSection(elf, '.gnu.linkonce.this_module')!;
    const late = createSymbol({
      name: 'late_local',
      bind: STB_LOCAL,
      type: STT_OBJECT,
      section: data,
      size: 8n,
    });
    elf.symbols.push(late); // deliberately after the globals: the writer must reorder
    addRelocation(elf, findSection(elf, '.text.my_export')!, {
      offset: 0n,
      type: R_X86_64_64,
      symbol: late,
      addend: 8n,
    });
    const path = await writeAndCheck(elf);

    const symbols = parseSymbolListing(await readelf(path, ['-sW']));
    const lateRow = symbols.find((s) => s.name === 'late_local')!;
    const firstGlobal = symbols.findIndex((s) => s.bind !== 'LOCAL');
    expect(lateRow.index).toBe(firstGlobal - 1);
    const shInfo = /\.symtab\s+SYMTAB\s+\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\d+)/.exec(
      await readelf(path, ['-SW']),
    );
    expect(Number(shInfo?.[1])).toBe(firstGlobal);

    const after = relocationFacts(await readelf(path, ['-rW']));
    const added = after.get('.rela.text.my_export')!.pop();
    expect(added).toBe('0 R_X86_64_64 late_local + 8');
    expect(after).toEqual(before);
    // The globals moved one index up, so their r_info must have changed accordingly.
    const moved = parseRelocationListing(await readelf(path, ['-rW'])).get('.rela.gnu.linkonce.this_module')!;
    const initModule = symbols.find((s) => s.name === 'init_module')!;
    expect(moved.find((r) => r.target.startsWith('init_module'))?.symbolIndex).toBe(initModule.index);
  });

  it('addSymbol keeps locals first in the model and sectionSymbol reuses STT_SECTION symbols', async () => {
    const elf = await load(objects.kernelObject);
    const local = addSymbol(elf, { name: 'added_local', bind: STB_LOCAL, section: elf.sections[0] });
    const firstGlobal = elf.symbols.findIndex((s) => s.bind !== STB_LOCAL);
    expect(elf.symbols.indexOf(local)).toBe(firstGlobal - 1);
    const text = findSection(elf, '.text.dispatch')!;
    const count = elf.symbols.length;
    expect(sectionSymbol(elf, text)).toBe(sectionSymbol(elf, text));
    expect(elf.symbols.length).toBe(count);
    const fresh = addSection(elf, { name: '.text.fresh', type: SHT_PROGBITS, data: Buffer.alloc(4) });
    expect(sectionSymbol(elf, fresh).section).toBe(fresh);
    expect(elf.symbols.length).toBe(count + 1);
  });

  it('a relocation added to a COMDAT member goes into a new .rela section inside the same group', async () => {
    const elf = await load(objects.comdatObject);
    const getter = elf.sections.find(
      (s) =>
        s.name.startsWith('.text.') && groupOf(elf, s) !== undefined && relocationsOf(elf, s).length === 0,
    )!;
    expect(getter).toBeDefined();
    const symbol = findSymbol(elf, 'use_box')!;
    addRelocation(elf, getter, { offset: 0n, type: R_X86_64_PC32, symbol, addend: -4n });
    const path = await writeAndCheck(elf);
    const groups = await readelf(path, ['-gW']);
    expect(groups).toContain(`.rela${getter.name}`);
    const reparsed = await load(path);
    const rela = findSection(reparsed, `.rela${getter.name}`)!;
    expect(groupOf(reparsed, rela)).toBe(groupOf(reparsed, findSection(reparsed, getter.name)!));
  });
});

describe('removing', () => {
  it('refuses to remove a referenced section, naming the references', async () => {
    const elf = await load(objects.kernelObject);
    const cold = findSection(elf, '.text.unlikely')!;
    expect(() => removeSection(elf, cold)).toThrowError(ElfFormatError);
    expect(() => removeSection(elf, cold)).toThrow(/sh_info of \.rela\.text\.unlikely points to it/);
    expect(() => removeSection(elf, cold)).toThrow(/symbol cold_fn is defined in it/);
    // With dependents the section's own symbols go, but other sections still use its section symbol.
    expect(() => removeSection(elf, cold, { withDependents: true })).toThrow(
      /relocation in \.rela__mcount_loc/,
    );
    expect(elf.sections).toContain(cold);
  });

  it('removes a section, its relocation section and symbols once nothing else uses them', async () => {
    const elf = await load(objects.kernelObject);
    const before = relocationFacts(await readelf(objects.kernelObject, ['-rW']));
    const cold = findSection(elf, '.text.unlikely')!;
    const sectionCount = elf.sections.length;
    const symbolCount = elf.symbols.length;
    for (const user of ['__mcount_loc', '.eh_frame']) {
      expect(removeRelocations(elf, findSection(elf, user)!, (r) => r.symbol?.section === cold)).toBe(1);
    }
    removeSection(elf, cold, { withDependents: true });
    expect(elf.sections.length).toBe(sectionCount - 2);
    expect(elf.symbols.length).toBe(symbolCount - 2); // cold_fn and the section symbol
    const path = await writeAndCheck(elf);

    const after = relocationFacts(await readelf(path, ['-rW']));
    expect(after.has('.rela.text.unlikely')).toBe(false);
    for (const [name, rows] of before) {
      if (name === '.rela.text.unlikely') continue;
      const expected = rows.filter((r) => !r.includes('.text.unlikely'));
      expect(after.get(name)).toEqual(expected);
    }
    const symbols = parseSymbolListing(await readelf(path, ['-sW']));
    expect(symbols.some((s) => s.name === 'cold_fn')).toBe(false);
    const dispatch = symbols.find((s) => s.name === 'dispatch')!;
    const sectionList = await readelf(path, ['-SW']);
    expect(sectionList).toMatch(new RegExp(`\\[\\s*${dispatch.ndx}\\] \\.text\\.dispatch `));
  });

  it('refuses to remove a symbol that relocations use and removes an unused one', async () => {
    const elf = await load(objects.kernelObject);
    expect(() => removeSymbol(elf, findSymbol(elf, 'printk')!)).toThrow(
      /cannot remove symbol printk: relocation in/,
    );
    const unused = findSymbol(elf, 'aliased')!;
    removeSymbol(elf, unused);
    const path = await writeAndCheck(elf);
    expect(parseSymbolListing(await readelf(path, ['-sW'])).some((s) => s.name === 'aliased')).toBe(false);
  });

  it('refuses to write a model with a dangling reference', async () => {
    const elf = await load(objects.kernelObject);
    const text = findSection(elf, '.text.dispatch')!;
    elf.sections = elf.sections.filter((s) => s !== text); // bypasses removeSection on purpose
    expect(() => serializeElf(elf)).toThrow(/refers to section \.text\.dispatch, which is not in the file/);
    const again = await load(objects.kernelObject);
    again.symbols = again.symbols.filter((s) => s.name !== 'printk');
    expect(() => serializeElf(again)).toThrow(/refers to symbol printk, which is not in the symbol table/);
  });
});
