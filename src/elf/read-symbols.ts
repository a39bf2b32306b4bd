import { formatError } from './byte-source.js';
import { ELF64_SYMBOL_SIZE, SHN_LORESERVE, SHN_UNDEF, SHN_XINDEX, SHT_STRTAB } from './constants.js';
import type { ElfSection } from './section.js';
import type { ElfSymbol } from './types.js';

export interface SymbolTableInput {
  file: string | undefined;
  symtab: ElfSection;
  /** sh_offset of the table, for error messages. */
  fileOffset: number;
  /** Data of the SHT_SYMTAB_SHNDX section for this table, if any. */
  extendedIndices: Buffer | undefined;
  /** Sections by file index (index 0 undefined). */
  sectionsByIndex: readonly (ElfSection | undefined)[];
}

/** The string table a symbol table links to; anything else in sh_link is a format error. */
export function linkedStringTable(file: string | undefined, table: ElfSection, at: number): ElfSection {
  const strtab = table.link;
  if (typeof strtab === 'number' || strtab.type !== SHT_STRTAB) {
    const what = typeof strtab === 'number' ? `index ${strtab}` : `[${strtab.origin?.index}] ${strtab.name}`;
    throw formatError(file, `sh_link of symbol table ${table.name} (${what}) is not a string table`, at);
  }
  if (!strtab.dataLoaded) throw formatError(file, `string table ${strtab.name} was not loaded`, at);
  return strtab;
}

/**
 * Decodes a symbol table (without its null entry). Section indices become section references;
 * SHN_XINDEX is resolved through the SHT_SYMTAB_SHNDX data; other reserved indices are kept as numbers.
 */
export function readSymbols(input: SymbolTableInput): ElfSymbol[] {
  const { file, symtab, fileOffset, extendedIndices, sectionsByIndex } = input;
  const data = symtab.data;
  const strings = linkedStringTable(file, symtab, fileOffset).data;
  const count = data.length / ELF64_SYMBOL_SIZE;
  if (extendedIndices && extendedIndices.length !== count * 4) {
    throw formatError(
      file,
      `SHT_SYMTAB_SHNDX section has ${extendedIndices.length / 4} entries but ${symtab.name} has ${count} symbols`,
      fileOffset,
    );
  }
  const symbols: ElfSymbol[] = new Array(Math.max(0, count - 1));
  for (let index = 1; index < count; index++) {
    const p = index * ELF64_SYMBOL_SIZE;
    const nameOffset = data.readUInt32LE(p);
    const end = nameOffset < strings.length ? strings.indexOf(0, nameOffset) : -1;
    if (end < 0) {
      throw formatError(
        file,
        `name of symbol ${index} (offset ${nameOffset} in string table of size ${strings.length}) is out of range or unterminated`,
        fileOffset + p,
      );
    }
    const stInfo = data[p + 4]!;
    let shndx = data.readUInt16LE(p + 6);
    if (shndx === SHN_XINDEX) {
      if (!extendedIndices) {
        throw formatError(
          file,
          `symbol ${index} uses SHN_XINDEX but there is no SHT_SYMTAB_SHNDX section`,
          fileOffset + p,
        );
      }
      shndx = extendedIndices.readUInt32LE(index * 4);
    } else if (shndx >= SHN_LORESERVE) {
      shndx = -shndx; // reserved value, kept below
    }
    let section: ElfSection | undefined;
    if (shndx > 0) {
      section = sectionsByIndex[shndx];
      if (!section) {
        throw formatError(
          file,
          `symbol ${index} has section index ${shndx} out of range (${sectionsByIndex.length} sections)`,
          fileOffset + p + 6,
        );
      }
    }
    symbols[index - 1] = {
      name: strings.toString('latin1', nameOffset, end),
      value: data.readBigUInt64LE(p + 8),
      size: data.readBigUInt64LE(p + 16),
      bind: stInfo >> 4,
      type: stInfo & 0xf,
      other: data[p + 5]!,
      section,
      specialIndex: shndx < 0 ? -shndx : SHN_UNDEF,
      nameOffset,
    };
  }
  return symbols;
}
