import { formatError } from './byte-source.js';
import {
  ELF64_REL_SIZE,
  ELF64_RELA_SIZE,
  ELF64_SYMBOL_SIZE,
  SHN_LORESERVE,
  SHN_XINDEX,
  SHT_RELA,
  STB_LOCAL,
} from './constants.js';
import type { ElfSection } from './section.js';
import type { StringTableBuilder } from './string-table.js';
import type { ElfGroup, ElfSymbol, Relocation } from './types.js';

const U64_LIMIT = 1n << 64n;
const S64_LIMIT = 1n << 63n;

/** Maps model objects to the indices they get in the written file. */
export interface IndexMaps {
  file: string | undefined;
  sectionIndex: ReadonlyMap<ElfSection, number>;
  symbolIndex: ReadonlyMap<ElfSymbol, number>;
}

export function indexOfSection(maps: IndexMaps, section: ElfSection, user: string): number {
  const index = maps.sectionIndex.get(section);
  if (index === undefined) {
    throw formatError(
      maps.file,
      `cannot write: ${user} refers to section ${section.name}, which is not in the file`,
    );
  }
  return index;
}

export function indexOfSymbol(maps: IndexMaps, symbol: ElfSymbol | undefined, user: string): number {
  if (symbol === undefined) return 0;
  const index = maps.symbolIndex.get(symbol);
  if (index === undefined) {
    throw formatError(
      maps.file,
      `cannot write: ${user} refers to symbol ${symbol.name || '(unnamed)'}, which is not in the symbol table`,
    );
  }
  return index;
}

/** Symbols in file order: locals first (as ELF requires), otherwise in model order. */
export function symbolsInFileOrder(symbols: readonly ElfSymbol[]): readonly ElfSymbol[] {
  let seenGlobal = false;
  for (const symbol of symbols) {
    if (symbol.bind !== STB_LOCAL) seenGlobal = true;
    else if (seenGlobal) {
      return [...symbols.filter((s) => s.bind === STB_LOCAL), ...symbols.filter((s) => s.bind !== STB_LOCAL)];
    }
  }
  return symbols;
}

function checkSymbolFields(file: string | undefined, symbol: ElfSymbol): void {
  const ok =
    Number.isInteger(symbol.bind) &&
    symbol.bind >= 0 &&
    symbol.bind < 16 &&
    Number.isInteger(symbol.type) &&
    symbol.type >= 0 &&
    symbol.type < 16 &&
    Number.isInteger(symbol.other) &&
    symbol.other >= 0 &&
    symbol.other < 256 &&
    symbol.value >= 0n &&
    symbol.value < U64_LIMIT &&
    symbol.size >= 0n &&
    symbol.size < U64_LIMIT;
  if (!ok) throw formatError(file, `cannot write: symbol ${symbol.name} has a field out of range`);
}

function symbolSectionIndex(maps: IndexMaps, symbol: ElfSymbol): number {
  if (symbol.section) return indexOfSection(maps, symbol.section, `symbol ${symbol.name || '(unnamed)'}`);
  const special = symbol.specialIndex;
  if (special !== 0 && !(special >= SHN_LORESERVE && special < SHN_XINDEX)) {
    throw formatError(
      maps.file,
      `cannot write: symbol ${symbol.name} has special section index ${special} but no section (use section for real indices)`,
    );
  }
  return special;
}

export interface EncodedSymbols {
  table: Buffer;
  /** SHT_SYMTAB_SHNDX contents, or undefined when no symbol needs an extended index. */
  extendedIndices: Buffer | undefined;
  firstNonLocal: number;
}

/** Encodes .symtab (with its null entry) and, when needed, the matching SHT_SYMTAB_SHNDX data. */
export function encodeSymbols(
  maps: IndexMaps,
  ordered: readonly ElfSymbol[],
  names: StringTableBuilder,
  forceExtended: boolean,
): EncodedSymbols {
  const count = ordered.length + 1;
  const table = Buffer.alloc(count * ELF64_SYMBOL_SIZE);
  let extended: Buffer | undefined = forceExtended ? Buffer.alloc(count * 4) : undefined;
  let firstNonLocal = count;
  for (let i = 0; i < ordered.length; i++) {
    const symbol = ordered[i]!;
    checkSymbolFields(maps.file, symbol);
    const index = i + 1;
    if (symbol.bind !== STB_LOCAL && firstNonLocal === count) firstNonLocal = index;
    const p = index * ELF64_SYMBOL_SIZE;
    let shndx = symbolSectionIndex(maps, symbol);
    if (symbol.section && shndx >= SHN_LORESERVE) {
      extended ??= Buffer.alloc(count * 4);
      extended.writeUInt32LE(shndx, index * 4);
      shndx = SHN_XINDEX;
    }
    table.writeUInt32LE(names.offsetOf(symbol.name, symbol.nameOffset), p);
    table[p + 4] = (symbol.bind << 4) | symbol.type;
    table[p + 5] = symbol.other;
    table.writeUInt16LE(shndx, p + 6);
    table.writeBigUInt64LE(symbol.value, p + 8);
    table.writeBigUInt64LE(symbol.size, p + 16);
  }
  return { table, extendedIndices: extended, firstNonLocal };
}

/** Encodes the entries of a SHT_RELA or SHT_REL section. */
export function encodeRelocations(
  maps: IndexMaps,
  section: ElfSection,
  relocations: readonly Relocation[],
): Buffer {
  const withAddend = section.type === SHT_RELA;
  const entrySize = withAddend ? ELF64_RELA_SIZE : ELF64_REL_SIZE;
  const out = Buffer.alloc(relocations.length * entrySize);
  for (let i = 0; i < relocations.length; i++) {
    const rel = relocations[i]!;
    const where = `relocation ${i} of ${section.name}`;
    const symbolIndex = indexOfSymbol(maps, rel.symbol, where);
    const typeOk = Number.isInteger(rel.type) && rel.type >= 0 && rel.type <= 0xffffffff;
    const addendOk = withAddend ? rel.addend >= -S64_LIMIT && rel.addend < S64_LIMIT : rel.addend === 0n;
    if (!typeOk || !addendOk || rel.offset < 0n || rel.offset >= U64_LIMIT) {
      throw formatError(
        maps.file,
        `cannot write: ${where} has a field out of range${addendOk ? '' : ' (SHT_REL entries cannot hold an addend)'}`,
      );
    }
    const p = i * entrySize;
    out.writeBigUInt64LE(rel.offset, p);
    out.writeUInt32LE(rel.type, p + 8);
    out.writeUInt32LE(symbolIndex, p + 12);
    if (withAddend) out.writeBigInt64LE(rel.addend, p + 16);
  }
  return out;
}

/** Encodes a SHT_GROUP section: flags word, then member section indices. */
export function encodeGroup(maps: IndexMaps, section: ElfSection, group: ElfGroup): Buffer {
  if (!Number.isInteger(group.flags) || group.flags < 0 || group.flags > 0xffffffff) {
    throw formatError(maps.file, `cannot write: group ${section.name} has bad flags ${group.flags}`);
  }
  const out = Buffer.alloc(4 + group.members.length * 4);
  out.writeUInt32LE(group.flags, 0);
  group.members.forEach((member, i) => {
    out.writeUInt32LE(indexOfSection(maps, member, `group ${section.name}`), 4 + i * 4);
  });
  return out;
}
