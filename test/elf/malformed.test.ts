import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseElf, SHT_SYMTAB } from '../../src/elf/index.js';
import { ElfFormatError } from '../../src/errors.js';
import type { TestObjects } from './support/build-objects.js';
import { buildTestObjects, removeTempDir } from './support/build-objects.js';
import { ElfBytes } from './support/elf-bytes.js';

let objects: TestObjects;
let object: Buffer;
let program: Buffer;
let symbolIndex: (name: string) => number;
beforeAll(async () => {
  objects = await buildTestObjects('malformed');
  object = await readFile(objects.kernelObject);
  program = await readFile(objects.executable);
  const elf = parseElf(object);
  symbolIndex = (name) => elf.symbols.findIndex((s) => s.name === name) + 1;
});
afterAll(() => removeTempDir(objects?.dir));

interface Case {
  name: string;
  /** Returns the corrupted bytes. */
  corrupt: () => Buffer;
  /** A phrase the ElfFormatError message must contain. */
  phrase: string;
}

const e = () => new ElfBytes(object);
const symbolEntry = (b: ElfBytes, name: string) => b.offset('.symtab') + symbolIndex(name) * 24;

const CASES: Case[] = [
  { name: 'empty file', corrupt: () => Buffer.alloc(0), phrase: 'too small for an ELF64 header' },
  {
    name: 'truncated ELF header',
    corrupt: () => object.subarray(0, 40),
    phrase: 'too small for an ELF64 header',
  },
  { name: 'wrong magic', corrupt: () => e().setU32(0, 0x464c457e).buffer, phrase: 'bad magic number' },
  { name: 'not ELF at all, short', corrupt: () => Buffer.from('#!/bin/sh\n'), phrase: 'bad magic number' },
  {
    name: 'ELF32 class',
    corrupt: () => e().setU16(4, 0x0101).buffer,
    phrase: 'ELF32 (32-bit class) is not supported',
  },
  { name: 'unknown class', corrupt: () => e().setU16(4, 0x0109).buffer, phrase: 'unknown ELF class 9' },
  {
    name: 'big-endian',
    corrupt: () => e().setU16(4, 0x0202).buffer,
    phrase: 'big-endian ELF is not supported',
  },
  {
    name: 'truncated before the section header table',
    corrupt: () => object.subarray(0, object.length - 100),
    phrase: 'section header table',
  },
  {
    name: 'e_shoff past the end',
    corrupt: () => e().setU64(40, object.length + 8).buffer,
    phrase: 'extends past the end',
  },
  { name: 'e_shoff beyond 2^53', corrupt: () => e().setU64(40, 1n << 60n).buffer, phrase: 'e_shoff 0x' },
  {
    name: 'wrong e_shentsize',
    corrupt: () => e().setU16(58, 40).buffer,
    phrase: 'bad section header entry size 40',
  },
  {
    name: 'e_shstrndx out of range',
    corrupt: () => e().setU16(62, 500).buffer,
    phrase: '(e_shstrndx) is out of range',
  },
  {
    name: 'e_shstrndx names a non-string table',
    corrupt: () => {
      const b = e();
      return b.setU16(62, b.index('.symtab')).buffer;
    },
    phrase: 'section name string table [',
  },
  {
    name: 'extended section count of billions (e_shnum 0)',
    corrupt: () => {
      const b = e().setU16(60, 0);
      return b.setU64(b.sectionHeaderOffset + 32, 1n << 32n).buffer;
    },
    phrase: 'section header table',
  },
  {
    name: 'section data past the end',
    corrupt: () => e().setHeaderWide('.text.dispatch', 'offset', object.length - 4).buffer,
    phrase: 'data of section [',
  },
  {
    name: 'section size of a terabyte',
    corrupt: () => e().setHeaderWide('.rodata.banner', 'size', 1n << 40n).buffer,
    phrase: 'extends past the end of the file',
  },
  {
    name: 'section size beyond 2^53',
    corrupt: () => e().setHeaderWide('.rodata.banner', 'size', 1n << 62n).buffer,
    phrase: 'sh_size of section [',
  },
  {
    name: 'section name offset out of range',
    corrupt: () => e().setHeaderField('.text.dispatch', 'name', 0xffffff).buffer,
    phrase: 'is out of range or unterminated',
  },
  {
    name: 'unterminated section name table',
    corrupt: () => {
      const b = e();
      b.buffer[b.offset('.shstrtab') + b.size('.shstrtab') - 1] = 0x41;
      return b.buffer;
    },
    phrase: 'unterminated',
  },
  {
    name: 'bad alignment',
    corrupt: () => e().setHeaderWide('.data.my_ops', 'align', 3).buffer,
    phrase: 'bad alignment 3',
  },
  {
    name: 'flags in the upper 32 bits',
    corrupt: () => e().setHeaderWide('.data.my_ops', 'flags', 1n << 40n).buffer,
    phrase: 'upper 32 bits of sh_flags',
  },
  {
    name: 'symtab entsize 0',
    corrupt: () => e().setHeaderWide('.symtab', 'entsize', 0).buffer,
    phrase: 'bad entry size 0',
  },
  {
    name: 'rela entsize wrong',
    corrupt: () => e().setHeaderWide('.rela.text.dispatch', 'entsize', 16).buffer,
    phrase: 'bad entry size 16 (sh_entsize), expected 24',
  },
  {
    name: 'symtab size not a multiple of 24',
    corrupt: () => {
      const b = e();
      return b.setHeaderWide('.symtab', 'size', b.size('.symtab') - 5).buffer;
    },
    phrase: 'is not a multiple of its entry size 24',
  },
  {
    name: 'symtab sh_link points to itself',
    corrupt: () => {
      const b = e();
      return b.setHeaderField('.symtab', 'link', b.index('.symtab')).buffer;
    },
    phrase: 'is not a string table',
  },
  {
    name: 'symtab sh_link out of range',
    corrupt: () => e().setHeaderField('.symtab', 'link', 9999).buffer,
    phrase: 'sh_link 9999 of section [',
  },
  {
    name: 'rela sh_link points to itself',
    corrupt: () => {
      const b = e();
      return b.setHeaderField('.rela.text.dispatch', 'link', b.index('.rela.text.dispatch')).buffer;
    },
    phrase: 'sh_link of relocation section .rela.text.dispatch is not a symbol table',
  },
  {
    name: 'rela sh_info out of range',
    corrupt: () => e().setHeaderField('.rela.text.dispatch', 'info', 7777).buffer,
    phrase: 'sh_info 7777 of section [',
  },
  {
    name: 'rela applies to itself',
    corrupt: () => {
      const b = e();
      return b.setHeaderField('.rela.text.dispatch', 'info', b.index('.rela.text.dispatch')).buffer;
    },
    phrase: 'applies to itself',
  },
  {
    name: 'two symbol tables',
    corrupt: () => e().setHeaderField('.rela.text.dispatch', 'type', SHT_SYMTAB).buffer,
    phrase: 'more than one SHT_SYMTAB',
  },
  {
    name: 'symbol name out of range',
    corrupt: () => {
      const b = e();
      return b.setU32(symbolEntry(b, 'dispatch'), 0x7fffffff).buffer;
    },
    phrase: 'name of symbol',
  },
  {
    name: 'unterminated symbol string table',
    corrupt: () => {
      const b = e();
      b.buffer[b.offset('.strtab') + b.size('.strtab') - 1] = 0x41;
      return b.buffer;
    },
    phrase: 'is out of range or unterminated',
  },
  {
    name: 'symbol section index out of range',
    corrupt: () => {
      const b = e();
      return b.setU16(symbolEntry(b, 'dispatch') + 6, 0xfe00).buffer;
    },
    phrase: 'has section index 65024 out of range',
  },
  {
    name: 'SHN_XINDEX without SHT_SYMTAB_SHNDX',
    corrupt: () => {
      const b = e();
      return b.setU16(symbolEntry(b, 'dispatch') + 6, 0xffff).buffer;
    },
    phrase: 'SHN_XINDEX but there is no SHT_SYMTAB_SHNDX',
  },
  {
    name: 'relocation symbol index out of range',
    corrupt: () => {
      const b = e();
      return b.setU32(b.offset('.rela.text.dispatch') + 12, 100000).buffer;
    },
    phrase: 'refers to symbol index 100000',
  },
  {
    name: 'relocation offset outside its section',
    corrupt: () => {
      const b = e();
      return b.setU64(b.offset('.rela.text.dispatch'), b.size('.text.dispatch') - 2).buffer;
    },
    phrase: 'is outside its target section .text.dispatch',
  },
  {
    name: 'group member index out of range',
    corrupt: () => {
      const b = e();
      return b.setU32(b.offset('.group') + 4, 4000).buffer;
    },
    phrase: 'bad member section index 4000',
  },
  {
    name: 'group member repeated',
    corrupt: () => {
      const b = e();
      const first = b.buffer.readUInt32LE(b.offset('.group') + 4);
      return b.setU32(b.offset('.group') + 8, first).buffer;
    },
    phrase: 'is a member of more than one group',
  },
  {
    name: 'group signature symbol out of range',
    corrupt: () => e().setHeaderField('.group', 'info', 123456).buffer,
    phrase: 'signature symbol index 123456',
  },
  {
    name: 'group sh_link not the symbol table',
    corrupt: () => {
      const b = e();
      return b.setHeaderField('.group', 'link', b.index('.strtab')).buffer;
    },
    phrase: 'sh_link of group section .group is not a symbol table',
  },
  {
    name: 'overlapping section data',
    corrupt: () => {
      const b = e();
      return b.setHeaderWide('.text.dispatch', 'offset', b.offset('.rodata.banner')).buffer;
    },
    phrase: 'overlap',
  },
  {
    name: 'section data over the section header table',
    corrupt: () => {
      const b = e();
      return b.setHeaderWide('.comment', 'offset', b.sectionHeaderOffset).buffer;
    },
    phrase: 'overlaps the ELF header or the section header table',
  },
  {
    name: 'program header count past the end',
    corrupt: () => new ElfBytes(program).setU16(56, 0xfff0).buffer,
    phrase: 'program header table extends past the end',
  },
  {
    name: 'wrong e_phentsize',
    corrupt: () => new ElfBytes(program).setU16(54, 32).buffer,
    phrase: 'bad program header entry size 32',
  },
];

describe('malformed input raises ElfFormatError', () => {
  it.each(CASES)('$name', ({ corrupt, phrase }) => {
    const bytes = corrupt();
    let error: unknown;
    try {
      parseElf(bytes, { file: 'bad.o' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ElfFormatError);
    expect((error as ElfFormatError).message).toContain(phrase);
    expect((error as ElfFormatError).message).toMatch(/^bad\.o: /);
  });

  it('the fixtures themselves parse, so each case fails for its own corruption', () => {
    expect(parseElf(object).sections.length).toBeGreaterThan(30);
    expect(parseElf(program).header.programHeaders?.count).toBeGreaterThan(5);
  });
});
