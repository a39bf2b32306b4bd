import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addSection,
  addSymbol,
  createElf,
  findSection,
  findSymbol,
  parseElf,
  R_X86_64_64,
  relocationsOf,
  removeSection,
  SHF_ALLOC,
  SHF_WRITE,
  SHN_XINDEX,
  SHT_PROGBITS,
  SHT_SYMTAB_SHNDX,
  serializeElf,
  writeElfFile,
} from '../../src/elf/index.js';
import { buildManySectionsObject, makeTempDir, readelf, removeTempDir } from './support/build-objects.js';
import { parseSymbolListing } from './support/readelf-tables.js';

const SECTIONS = 65300; // with .symtab & co. this passes SHN_LORESERVE (0xff00)

let dir: string;
let path: string;
let input: Buffer;
beforeAll(async () => {
  dir = await makeTempDir('extended');
  path = await buildManySectionsObject(dir, SECTIONS);
  input = await readFile(path);
});
afterAll(() => removeTempDir(dir));

/** Index of a section as readelf -S reports it. */
function readelfSectionIndex(listing: string, name: string): number {
  const match = new RegExp(`\\[\\s*(\\d+)\\] ${name.replaceAll('.', '\\.')} `).exec(listing);
  if (!match) throw new Error(`readelf does not list ${name}`);
  return Number(match[1]);
}

describe('extended section numbering', () => {
  it('the assembler object really uses e_shnum 0, SHN_XINDEX and .symtab_shndx', () => {
    expect(input.readUInt16LE(60)).toBe(0);
    expect(input.readUInt16LE(62)).toBe(SHN_XINDEX);
    const elf = parseElf(input);
    expect(elf.sections.length).toBeGreaterThan(0xff00);
    expect(elf.sections.some((s) => s.type === SHT_SYMTAB_SHNDX)).toBe(true);
  });

  it('reads symbols defined in sections above 0xff00 and their relocations', () => {
    const elf = parseElf(input, { file: path });
    const last = findSymbol(elf, `sym${SECTIONS - 1}`)!;
    expect(last.section?.name).toBe(`.data.s${SECTIONS - 1}`);
    expect(elf.sections.indexOf(last.section!) + 1).toBeGreaterThan(0xff00);
    const relocations = relocationsOf(elf, findSection(elf, '.data.s65000')!);
    expect(relocations.map((r) => [r.type, r.symbol?.name])).toEqual([[R_X86_64_64, 'sym65007']]);
  });

  it('writes the unmodified object byte for byte', () => {
    expect(serializeElf(parseElf(input)).equals(input)).toBe(true);
  });

  it('after removing a low section every index above 0xff00 shifts down and stays consistent', async () => {
    const elf = parseElf(input, { file: path });
    removeSection(elf, findSection(elf, '.data.s5')!, { withDependents: true });
    const output = join(dir, 'edited.o');
    await writeElfFile(output, elf);
    const sections = await readelf(output, ['-SW']);
    const symbols = parseSymbolListing(await readelf(output, ['-sW']));
    const lastIndex = readelfSectionIndex(sections, `.data.s${SECTIONS - 1}`);
    expect(lastIndex).toBe(elf.sections.indexOf(findSection(elf, `.data.s${SECTIONS - 1}`)!) + 1);
    expect(symbols.find((s) => s.name === `sym${SECTIONS - 1}`)?.ndx).toBe(String(lastIndex));
    expect(symbols.some((s) => s.name === 'sym5')).toBe(false);
    await execa('ld', ['-r', '-o', `${output}.linked.o`, output]);
  });

  it('a new file with more than 0xff00 sections gets extended numbering and a .symtab_shndx', async () => {
    const elf = createElf({ file: 'generated.o' });
    const sections = Array.from({ length: SECTIONS }, (_, i) =>
      addSection(elf, {
        name: `.data.g${i}`,
        type: SHT_PROGBITS,
        flags: SHF_ALLOC | SHF_WRITE,
        data: Buffer.from([i & 0xff]),
      }),
    );
    addSymbol(elf, { name: 'high_symbol', section: sections.at(-1)!, size: 1n });
    // Move .shstrtab last so e_shstrndx needs the escape too.
    elf.sections = [...elf.sections.filter((s) => s !== elf.sectionNames), elf.sectionNames!];
    const output = join(dir, 'generated.o');
    await writeElfFile(output, elf);
    const bytes = await readFile(output);
    expect(bytes.readUInt16LE(60)).toBe(0);
    expect(bytes.readUInt16LE(62)).toBe(SHN_XINDEX);
    expect(await readelf(output, ['-hW'])).toContain(
      `Number of section headers:         0 (${SECTIONS + 5})`,
    );
    const listing = await readelf(output, ['-SW']);
    expect(listing).toContain('.symtab_shndx');
    const symbol = parseSymbolListing(await readelf(output, ['-sW'])).find((s) => s.name === 'high_symbol');
    expect(symbol?.ndx).toBe(String(readelfSectionIndex(listing, `.data.g${SECTIONS - 1}`)));
    const reparsed = parseElf(bytes);
    expect(findSymbol(reparsed, 'high_symbol')?.section?.name).toBe(`.data.g${SECTIONS - 1}`);
  });
});
