import { describe, expect, it } from 'vitest';
import {
  addSection,
  createElf,
  EM_X86_64,
  ET_REL,
  findSection,
  relocationSectionFor,
  SHT_PROGBITS,
  SHT_RELA,
} from '../../src/elf/index.js';

describe('relocationSectionFor', () => {
  it.each([
    ['the conventionally named one, whatever the order', ['.extra.rela', '.rela.text'], '.rela.text'],
    ['the only one, whatever its name', ['.extra.rela'], '.extra.rela'],
    ['the first when none has the conventional name', ['.one', '.two'], '.one'],
  ])('picks %s', (_, names, expected) => {
    const elf = createElf({ machine: EM_X86_64, type: ET_REL });
    const text = addSection(elf, { name: '.text', type: SHT_PROGBITS, data: Buffer.alloc(16) });
    for (const name of names) {
      addSection(elf, {
        name,
        type: SHT_RELA,
        entsize: 24,
        link: elf.symtab,
        info: text,
        data: Buffer.alloc(0),
      });
    }
    expect(relocationSectionFor(elf, text)?.name).toBe(expected);
    expect(relocationSectionFor(elf, findSection(elf, names[0]!)!)).toBeUndefined();
  });
});
