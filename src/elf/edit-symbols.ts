import { formatError } from './byte-source.js';
import { SHN_UNDEF, SHT_REL, SHT_RELA, STB_GLOBAL, STB_LOCAL, STT_NOTYPE, STT_SECTION } from './constants.js';
import type { ElfSection } from './section.js';
import type { ElfFile, ElfSymbol } from './types.js';

export interface SymbolInit {
  name: string;
  value?: bigint;
  size?: bigint;
  /** Default STB_GLOBAL. */
  bind?: number;
  /** Default STT_NOTYPE. */
  type?: number;
  other?: number;
  section?: ElfSection;
  /** st_shndx when there is no section (default SHN_UNDEF). */
  specialIndex?: number;
}

/** Creates a symbol object (not yet in any file). */
export function createSymbol(init: SymbolInit): ElfSymbol {
  return {
    name: init.name,
    value: init.value ?? 0n,
    size: init.size ?? 0n,
    bind: init.bind ?? STB_GLOBAL,
    type: init.type ?? STT_NOTYPE,
    other: init.other ?? 0,
    section: init.section,
    specialIndex: init.specialIndex ?? SHN_UNDEF,
    nameOffset: -1,
  };
}

/**
 * Adds a symbol: a local one after the last local symbol, others at the end, so the model keeps the
 * locals-first order of the file (the writer would reorder otherwise).
 */
export function addSymbol(elf: ElfFile, init: SymbolInit): ElfSymbol {
  if (!elf.symtab)
    throw formatError(elf.file, `cannot add symbol ${init.name}: the file has no symbol table`);
  if (init.section && !elf.sections.includes(init.section)) {
    throw formatError(
      elf.file,
      `cannot add symbol ${init.name}: section ${init.section.name} is not in this file`,
    );
  }
  const symbol = createSymbol(init);
  if (symbol.bind === STB_LOCAL) {
    const firstNonLocal = elf.symbols.findIndex((s) => s.bind !== STB_LOCAL);
    elf.symbols.splice(firstNonLocal < 0 ? elf.symbols.length : firstNonLocal, 0, symbol);
  } else {
    elf.symbols.push(symbol);
  }
  return symbol;
}

/** The STT_SECTION symbol of `section`, created when there is none (relocations often need one). */
export function sectionSymbol(elf: ElfFile, section: ElfSection): ElfSymbol {
  const existing = elf.symbols.find((s) => s.type === STT_SECTION && s.section === section);
  return existing ?? addSymbol(elf, { name: '', bind: STB_LOCAL, type: STT_SECTION, section });
}

/** Readable descriptions of what refers to `symbol` (relocations, group signatures). */
export function symbolReferences(elf: ElfFile, symbol: ElfSymbol): string[] {
  const found: string[] = [];
  for (const section of elf.sections) {
    if (section.group?.signature === symbol) found.push(`it is the signature of group ${section.name}`);
    if (section.type !== SHT_RELA && section.type !== SHT_REL) continue;
    for (const rel of section.relocations ?? []) {
      if (rel.symbol === symbol) found.push(`relocation in ${section.name} at 0x${rel.offset.toString(16)}`);
    }
  }
  return found;
}

/** Removes a symbol; fails (listing them) while relocations or groups still refer to it. */
export function removeSymbol(elf: ElfFile, symbol: ElfSymbol): void {
  const at = elf.symbols.indexOf(symbol);
  if (at < 0) throw formatError(elf.file, `cannot remove symbol ${symbol.name}: it is not in this file`);
  const found = symbolReferences(elf, symbol);
  if (found.length > 0) {
    const more = found.length > 8 ? `; and ${found.length - 8} more` : '';
    throw formatError(
      elf.file,
      `cannot remove symbol ${symbol.name || '(unnamed)'}: ${found.slice(0, 8).join('; ')}${more}`,
    );
  }
  elf.symbols.splice(at, 1);
}
