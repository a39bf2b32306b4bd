import type { ElfFile, ElfSection, ElfSymbol, Relocation } from '../elf/index.js';

/** How an element of the patched object relates to the original one. */
export type ChangeStatus = 'same' | 'changed' | 'new';

/** A content section (not a relocation, symbol or string table) with what the diff learns about it. */
export interface DiffSection {
  section: ElfSection;
  /** Relocations applied to the section (empty when it has none). Edited in place by the diff. */
  relocations: Relocation[];
  /** The one function or object the section holds at offset 0 and whole, with -ffunction/data-sections. */
  bundled: DiffSymbol | undefined;
  twin: DiffSection | undefined;
  status: ChangeStatus;
  /** Member of a SHT_GROUP (comdat) section. */
  grouped: boolean;
  include: boolean;
  /** Why the section compared different, for the report and refusals. */
  difference: string | undefined;
}

/** A symbol of one object with its correlation and inclusion state. */
export interface DiffSymbol {
  symbol: ElfSymbol;
  section: DiffSection | undefined;
  twin: DiffSymbol | undefined;
  status: ChangeStatus;
  include: boolean;
  /** `foo` for `foo.cold` and `foo.part.N` (GCC splits parts of a function into these). */
  parent: DiffSymbol | undefined;
  children: DiffSymbol[];
  /** A function-scope static (`count.3` from gcc, `fn.count` from clang), paired through its users. */
  staticLocal: boolean;
  /** For `__pfx_foo` / `__cfi_foo`: `foo`, whose padding the symbol names; it goes where foo goes. */
  prefixOf?: DiffSymbol;
  /** A static local the compiler re-creates per use (`__warned`, `__func__`, ...): copied, never matched. */
  specialStatic: boolean;
  /**
   * A changed function ftrace cannot redirect (no __fentry__ call): it is copied into the livepatch
   * and reached through its patched callers, never patched itself.
   */
  untraced?: boolean;
}

/** One of the two objects being compared. */
export interface DiffObject {
  path: string;
  elf: ElfFile;
  sections: DiffSection[];
  symbols: DiffSymbol[];
  sectionOf: Map<ElfSection, DiffSection>;
  symbolOf: Map<ElfSymbol, DiffSymbol>;
  /** The STT_FILE name (source file), used to find local symbols in the parent. */
  sourceFile: string | undefined;
}

export function diffSymbolOf(object: DiffObject, symbol: ElfSymbol | undefined): DiffSymbol | undefined {
  return symbol ? object.symbolOf.get(symbol) : undefined;
}
