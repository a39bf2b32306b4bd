import type { Relocation } from '../../elf/index.js';
import { STT_FUNC, STT_SECTION } from '../../elf/index.js';
import type { DiffObject, DiffSection, DiffSymbol } from '../model.js';
import type { Refusal } from '../refusals.js';
import type { StructSizeName } from '../struct-sizes.js';

/** How a special section is cut into entries. */
export type EntryLayout =
  /** Fixed-size structs whose size depends on the kernel (taken from the target or the environment). */
  | { kind: 'struct'; sizeName: StructSizeName; fallback?: number }
  /** One relocated word per entry (lists of sites): the relocation type gives the width. */
  | { kind: 'per-relocation' }
  /** NUL-terminated strings, kept by content. */
  | { kind: 'strings'; keep: (entry: string) => boolean };

/** One entry kept for the output, for the checks a table makes on it. */
export interface KeptEntry {
  object: DiffObject;
  /** Offset of the entry in the input section. */
  offset: number;
  relocations: readonly Relocation[];
}

export interface SpecialTableContext {
  /** 'vmlinux' or the name of the module being patched. */
  parent: string;
  /** True when the parent object defines `name` (so a key there lives in the module). */
  parentDefines: (name: string) => boolean;
}

/** A table of entries pointing into code; only entries for included functions are kept. */
export interface SpecialTable {
  /** Section name, or a prefix ending in `*`. */
  name: string;
  layout: EntryLayout;
  /** A table filtered with the same entry indices (the ORC data next to its instruction pointers). */
  companion?: { name: string; sizeName: StructSizeName; fallback: number };
  /** Refusals for a kept entry (e.g. a static key that lives in a module). */
  check?: (entry: KeptEntry, context: SpecialTableContext) => Refusal | undefined;
}

/** A special section reduced to the kept entries. */
export interface FilteredSection {
  source: DiffSection;
  data: Buffer;
  relocations: Relocation[];
  /** Where the symbols of a section cut by symbol moved to; symbols missing here are dropped. */
  symbolValues?: Map<DiffSymbol, bigint>;
  /** The cut size, for SHT_NOBITS sections (no data). */
  size?: number;
}

/** True when the relocation's target is code that goes into the output. */
export function pointsToIncludedCode(object: DiffObject, relocation: Relocation): boolean {
  const target: DiffSymbol | undefined = relocation.symbol
    ? object.symbolOf.get(relocation.symbol)
    : undefined;
  if (!target?.section) return false;
  if (target.symbol.type === STT_SECTION)
    return target.section.include && target.section.bundled?.include === true;
  // Copied, not merely referenced: entries for the running kernel's own functions stay with the kernel.
  return target.include && target.section.include && target.symbol.type === STT_FUNC;
}
