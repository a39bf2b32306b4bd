// Public API of the ELF64 layer: parse, edit and write ELF64 little-endian objects.

export { AARCH64_RELOCATIONS } from './arch/aarch64.js';
export {
  archForMachine,
  relocationTypeByName,
  relocationTypeInfo,
  relocationTypeName,
} from './arch/index.js';
export type { ArchRelocations, RelocationTypeInfo } from './arch/types.js';
export * from './arch/x86-64.js';
export * from './constants.js';
export type { CreateElfOptions } from './create-elf.js';
export { createElf } from './create-elf.js';
export { addRelocation, ensureRelocationSection, removeRelocations } from './edit-relocations.js';
export type { AddSectionOptions, RemoveSectionOptions } from './edit-sections.js';
export { addSection, removeSection, renameSection } from './edit-sections.js';
export type { SymbolInit } from './edit-symbols.js';
export { addSymbol, createSymbol, removeSymbol, sectionSymbol, symbolReferences } from './edit-symbols.js';
export type { ReadElfOptions } from './file-io.js';
export { readElfFile, writeElfFile } from './file-io.js';
export type { LayoutMode } from './layout.js';
export {
  allRelocations,
  findSection,
  findSymbol,
  groupOf,
  relocationSectionFor,
  relocationsOf,
  sectionIndex,
  sectionsByName,
  symbolsByName,
  symbolsInSection,
} from './lookup.js';
export type { ParseOptions } from './parse-elf.js';
export { parseElf } from './parse-elf.js';
export type { SectionInit } from './section.js';
export { ElfSection } from './section.js';
export type { IntegerWidth } from './section-data.js';
export { readSectionInt, readSectionString, writeSectionInt } from './section-data.js';
export { joinStrings, StringTableBuilder, splitStrings, stringAt } from './string-table.js';
export type {
  ElfFile,
  ElfGroup,
  ElfHeader,
  ElfSource,
  ElfSymbol,
  ProgramHeaderTable,
  Relocation,
  SectionOrigin,
} from './types.js';
export type { SerializeOptions } from './write-elf.js';
export { serializeElf } from './write-elf.js';
