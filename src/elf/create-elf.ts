import { ELF64_SYMBOL_SIZE, EM_X86_64, ET_REL, EV_CURRENT, SHT_STRTAB, SHT_SYMTAB } from './constants.js';
import { ElfSection } from './section.js';
import type { ElfFile } from './types.js';

export interface CreateElfOptions {
  /** e_machine, default EM_X86_64. */
  machine?: number;
  /** e_type, default ET_REL. */
  type?: number;
  /** Label for error messages. */
  file?: string;
}

/** A new, empty ELF64 little-endian file with .symtab, .strtab and .shstrtab, ready for edits. */
export function createElf(options: CreateElfOptions = {}): ElfFile {
  const strtab = new ElfSection({ name: '.strtab', type: SHT_STRTAB });
  const symtab = new ElfSection({
    name: '.symtab',
    type: SHT_SYMTAB,
    addralign: 8,
    entsize: ELF64_SYMBOL_SIZE,
    link: strtab,
  });
  const shstrtab = new ElfSection({ name: '.shstrtab', type: SHT_STRTAB });
  return {
    file: options.file,
    header: {
      osabi: 0,
      abiVersion: 0,
      type: options.type ?? ET_REL,
      machine: options.machine ?? EM_X86_64,
      version: EV_CURRENT,
      entry: 0n,
      flags: 0,
      programHeaders: undefined,
    },
    sections: [symtab, strtab, shstrtab],
    symtab,
    symbols: [],
    sectionNames: shstrtab,
    source: undefined,
    originalSymbols: [],
    partial: false,
  };
}
