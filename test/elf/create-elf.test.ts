import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addRelocation,
  addSection,
  addSymbol,
  createElf,
  findSection,
  parseElf,
  R_X86_64_32,
  R_X86_64_PC32,
  R_X86_64_PLT32,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_INFO_LINK,
  SHT_PROGBITS,
  SHT_REL,
  STB_GLOBAL,
  STT_FUNC,
  sectionSymbol,
  serializeElf,
  writeElfFile,
} from '../../src/elf/index.js';
import { makeTempDir, readelf, removeTempDir } from './support/build-objects.js';
import { parseRelocationListing } from './support/readelf-tables.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('create');
});
afterAll(() => removeTempDir(dir));

// main: sub $8,%rsp; lea msg(%rip),%rdi; call puts; add $8,%rsp; xor %eax,%eax; ret
const MAIN_CODE = Buffer.from([
  0x48, 0x83, 0xec, 0x08, 0x48, 0x8d, 0x3d, 0, 0, 0, 0, 0xe8, 0, 0, 0, 0, 0x48, 0x83, 0xc4, 0x08, 0x31, 0xc0,
  0xc3,
]);
const MESSAGE = 'hello from a generated object';

describe('createElf', () => {
  it('builds an object from scratch that gcc links into a working program', async () => {
    const elf = createElf({ file: 'hello.o' });
    const text = addSection(elf, {
      name: '.text',
      type: SHT_PROGBITS,
      flags: SHF_ALLOC | SHF_EXECINSTR,
      addralign: 16,
      data: MAIN_CODE,
    });
    const rodata = addSection(elf, {
      name: '.rodata',
      type: SHT_PROGBITS,
      flags: SHF_ALLOC,
      data: Buffer.from(`${MESSAGE}\0`, 'latin1'),
    });
    addSection(elf, { name: '.note.GNU-stack', type: SHT_PROGBITS });
    addSymbol(elf, {
      name: 'main',
      bind: STB_GLOBAL,
      type: STT_FUNC,
      section: text,
      size: BigInt(MAIN_CODE.length),
    });
    const puts = addSymbol(elf, { name: 'puts' });
    addRelocation(elf, text, {
      offset: 7n,
      type: R_X86_64_PC32,
      symbol: sectionSymbol(elf, rodata),
      addend: -4n,
    });
    addRelocation(elf, text, { offset: 12n, type: R_X86_64_PLT32, symbol: puts, addend: -4n });
    const object = join(dir, 'hello.o');
    await writeElfFile(object, elf);

    const relocations = parseRelocationListing(await readelf(object, ['-rW'])).get('.rela.text');
    expect(relocations?.map((r) => r.target)).toEqual(['.rodata - 4', 'puts - 4']);
    const program = join(dir, 'hello');
    await execa('gcc', ['-o', program, object]);
    const { stdout } = await execa(program);
    expect(stdout).toBe(MESSAGE);
  });

  it('writes and reads back SHT_REL sections, whose addends live in the section data', async () => {
    const elf = createElf();
    const data = addSection(elf, {
      name: '.data',
      type: SHT_PROGBITS,
      flags: SHF_ALLOC,
      data: Buffer.alloc(8),
    });
    const target = addSymbol(elf, { name: 'target' });
    const rel = addSection(elf, {
      name: '.rel.data',
      type: SHT_REL,
      flags: SHF_INFO_LINK,
      addralign: 8,
      entsize: 16,
      link: elf.symtab!,
      info: data,
    });
    rel.relocations = [{ offset: 4n, type: R_X86_64_32, symbol: target, addend: 0n }];
    const object = join(dir, 'rel.o');
    await writeElfFile(object, elf);
    const listing = await readelf(object, ['-rW']);
    expect(listing).toContain("Relocation section '.rel.data'");
    expect(
      parseRelocationListing(listing)
        .get('.rel.data')
        ?.map((r) => [r.offset, r.type, r.target]),
    ).toEqual([[4n, 'R_X86_64_32', 'target']]);
    const reparsed = parseElf(serializeElf(elf));
    expect(findSection(reparsed, '.rel.data')?.relocations).toEqual([
      {
        offset: 4n,
        type: R_X86_64_32,
        symbol: reparsed.symbols.find((s) => s.name === 'target'),
        addend: 0n,
      },
    ]);
    rel.relocations[0]!.addend = 2n;
    expect(() => serializeElf(elf)).toThrow(/SHT_REL entries cannot hold an addend/);
  });

  it('shares one string table between section and symbol names when .symtab links to .shstrtab', async () => {
    const elf = createElf();
    const strtab = findSection(elf, '.strtab')!;
    elf.symtab!.link = elf.sectionNames!;
    elf.sections = elf.sections.filter((s) => s !== strtab);
    const text = addSection(elf, { name: '.text.shared', type: SHT_PROGBITS, data: Buffer.alloc(4) });
    addSymbol(elf, { name: 'shared_symbol', section: text });
    const object = join(dir, 'shared.o');
    await writeElfFile(object, elf);
    expect(await readelf(object, ['-sW'])).toMatch(/GLOBAL DEFAULT\s+\d+ shared_symbol/);
    expect(await readelf(object, ['-SW'])).toContain('.text.shared');
    const reparsed = parseElf(serializeElf(elf));
    expect(reparsed.symtab?.link).toBe(reparsed.sectionNames);
    expect(reparsed.symbols.map((s) => [s.name, s.section?.name])).toEqual([
      ['shared_symbol', '.text.shared'],
    ]);
  });
});
