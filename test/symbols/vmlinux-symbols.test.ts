import { describe, expect, it } from 'vitest';
import {
  createElf,
  createSymbol,
  ElfSection,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHN_ABS,
  SHT_NOBITS,
  SHT_PROGBITS,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_FILE,
  STT_FUNC,
  STT_OBJECT,
  STT_SECTION,
} from '../../src/elf/index.js';
import { inKallsyms, nmType, vmlinuxIndexEntries } from '../../src/symbols/vmlinux-symbols.js';

const text: ElfSection = new ElfSection({
  name: '.text',
  type: SHT_PROGBITS,
  flags: SHF_ALLOC | SHF_EXECINSTR,
});
const data: ElfSection = new ElfSection({ name: '.data', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE });
const bss: ElfSection = new ElfSection({ name: '.bss', type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE });
const rodata: ElfSection = new ElfSection({ name: '.rodata', type: SHT_PROGBITS, flags: SHF_ALLOC });

describe('inKallsyms', () => {
  it.each([
    ['a local function', createSymbol({ name: 'f', bind: STB_LOCAL, type: STT_FUNC, section: text }), true],
    ['a dotted clone', createSymbol({ name: 'f.constprop.0', bind: STB_LOCAL, section: text }), true],
    [
      'a __kstrtab_ string',
      createSymbol({ name: '__kstrtab_printk', bind: STB_LOCAL, section: rodata }),
      false,
    ],
    [
      'a __kstrtabns_ string',
      createSymbol({ name: '__kstrtabns_printk', bind: STB_LOCAL, section: rodata }),
      false,
    ],
    ['a __crc_ symbol', createSymbol({ name: '__crc_printk', section: rodata }), false],
    ['a .L label', createSymbol({ name: '.Ltmp1', bind: STB_LOCAL, section: text }), false],
    ['the kallsyms tables', createSymbol({ name: 'kallsyms_names', section: rodata }), false],
    ['an absolute symbol', createSymbol({ name: 'text_size', specialIndex: SHN_ABS }), false],
    ['an undefined symbol', createSymbol({ name: 'u' }), false],
    [
      'a section symbol',
      createSymbol({ name: '', type: STT_SECTION, bind: STB_LOCAL, section: text }),
      false,
    ],
    [
      'a file symbol',
      createSymbol({ name: 'a.c', type: STT_FILE, bind: STB_LOCAL, specialIndex: SHN_ABS }),
      false,
    ],
  ])('%s: %s', (_what, symbol, expected) => {
    expect(inKallsyms(symbol)).toBe(expected);
  });
});

describe('nmType', () => {
  it.each([
    [createSymbol({ name: 'x', bind: STB_LOCAL, section: text }), 't'],
    [createSymbol({ name: 'x', bind: STB_GLOBAL, section: text }), 'T'],
    [createSymbol({ name: 'x', bind: STB_LOCAL, section: data }), 'd'],
    [createSymbol({ name: 'x', bind: STB_GLOBAL, section: bss }), 'B'],
    [createSymbol({ name: 'x', bind: STB_LOCAL, section: rodata }), 'r'],
    [createSymbol({ name: 'x', bind: STB_WEAK, section: text }), 'W'],
    [createSymbol({ name: 'x', bind: STB_WEAK, type: STT_OBJECT, section: data }), 'V'],
  ])('%#: %s', (symbol, letter) => {
    expect(nmType(symbol)).toBe(letter);
  });
});

describe('vmlinuxIndexEntries', () => {
  it('sorts by address, keeps symbol-table order for equal addresses, and files only for locals', () => {
    const elf = createElf();
    elf.symbols = [
      createSymbol({ name: 'a.c', type: STT_FILE, bind: STB_LOCAL, specialIndex: SHN_ABS }),
      createSymbol({ name: 'dup', bind: STB_LOCAL, section: text, value: 0x300n }),
      createSymbol({ name: 'same1', bind: STB_LOCAL, section: text, value: 0x100n }),
      createSymbol({ name: 'b.c', type: STT_FILE, bind: STB_LOCAL, specialIndex: SHN_ABS }),
      createSymbol({ name: 'dup', bind: STB_LOCAL, section: data, value: 0x200n }),
      createSymbol({ name: 'same2', bind: STB_LOCAL, section: text, value: 0x100n }),
      createSymbol({ name: 'global', section: text, value: 0x50n }),
    ];
    expect(vmlinuxIndexEntries(elf).map((e) => [e.name, e.address, e.type, e.file])).toEqual([
      ['global', 0x50n, 'T', undefined],
      ['same1', 0x100n, 't', 'a.c'],
      ['same2', 0x100n, 't', 'b.c'],
      ['dup', 0x200n, 'd', 'b.c'],
      ['dup', 0x300n, 't', 'a.c'],
    ]);
  });
});
