// Public API of klp-convert: turn a kbuild-built livepatch module into the kernel's livepatch ELF format.

export { livepatchSectionProblems } from './apply-conversion.js';
export { convertElf } from './convert-elf.js';
export type { ConvertLivepatchOptions, ConvertLivepatchResult } from './convert-livepatch-module.js';
export { convertLivepatchModule } from './convert-livepatch-module.js';
export type {
  ConversionReason,
  ConvertContext,
  ConvertedSymbol,
  ConvertReport,
  KlpSectionReport,
} from './convert-types.js';
export * from './klp-names.js';
export { removeDepends, removeVersions } from './module-metadata.js';
export type { ModuleRelocs, SymposDeclaration } from './module-relocs.js';
export { MODULE_RELOC_ENTRY_SIZE, readModuleRelocs } from './module-relocs.js';
