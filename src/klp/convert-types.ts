/** The values klp-convert's passes hand each other, and its report. */
import type { ElfSection, ElfSymbol, Relocation } from '../elf/index.js';
import type { ModuleSymbols } from '../symbols/module-symbols.js';
import type { ExportedSymbol } from '../symbols/parse-module-symvers.js';
import type { ObjectSymbols } from '../symbols/resolve-sympos.js';

/** What klp-convert knows about the target kernel. */
export interface ConvertContext {
  /** vmlinux's symbols in sympos order; undefined when no symbol source was given. */
  vmlinux?: ObjectSymbols | undefined;
  /** Where the vmlinux symbols came from, for messages. */
  vmlinuxSource?: string | undefined;
  /** Module.symvers of the target: who exports what. */
  exports?: ReadonlyMap<string, ExportedSymbol> | undefined;
  /** Target modules read from their .ko files, by kernel module name. */
  modules?: ReadonlyMap<string, ModuleSymbols> | undefined;
  /** Leave references to symbols found nowhere as they are instead of failing. */
  allowUnresolved?: boolean | undefined;
}

/** Why a symbol was converted. */
export type ConversionReason =
  /** KLP_SYMPOS() in a KLP_MODULE_RELOC() array named it. */
  | 'declared'
  /** Not exported, and the name is unique in the one object that has it. */
  | 'unique'
  /** Exported by a module: a livepatch must not make that module a dependency. */
  | 'module-export';

export interface ConvertedSymbol {
  name: string;
  object: string;
  sympos: number;
  klpSymbol: string;
  reason: ConversionReason;
  /** Relocations moved into .klp.rela sections. */
  relocations: number;
  /** How many symbols of the object have the name, when known. */
  candidates: number | undefined;
  /** The KLP_SYMPOS entry that declared it, if one did. */
  declaredAt: string | undefined;
}

export interface KlpSectionReport {
  name: string;
  /** The section the relocations apply to (sh_info). */
  target: string;
  relocations: number;
}

export interface ConvertReport {
  converted: ConvertedSymbol[];
  /** Referenced symbols exported by vmlinux: left as normal relocations. */
  exportsKept: string[];
  /** Symbols found nowhere and left as they are (--allow-unresolved, or weak references). */
  unresolved: string[];
  /** Every livepatch relocation section of the result. */
  klpSections: KlpSectionReport[];
  /** Sections that were removed (KLP_MODULE_RELOC arrays, emptied .rela sections). */
  removedSections: string[];
  /** __versions entries removed. */
  removedVersions: string[];
  /** Modules removed from .modinfo depends=. */
  removedDepends: string[];
  warnings: string[];
}

export interface Use {
  relocationSection: ElfSection;
  target: ElfSection;
  relocation: Relocation;
}

export interface SymbolUses {
  /** Relocations patching allocated sections: these become livepatch relocations. */
  alloc: Use[];
  /** Relocations of non-allocated sections (debug info); the loader never applies them. */
  other: number;
}

export interface Plan {
  symbol: ElfSymbol;
  name: string;
  object: string;
  sympos: number;
  reason: ConversionReason;
  candidates: number | undefined;
  declaredAt: string | undefined;
}

export type Decision =
  | {
      kind: 'convert';
      object: string;
      sympos: number;
      reason: ConversionReason;
      candidates: number | undefined;
    }
  | { kind: 'export' }
  | { kind: 'unresolved' }
  | { kind: 'problem'; text: string };
