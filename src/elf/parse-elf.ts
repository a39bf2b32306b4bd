import type { ByteSource } from './byte-source.js';
import { bufferSource, formatError } from './byte-source.js';
import {
  ELF64_REL_SIZE,
  ELF64_RELA_SIZE,
  ELF64_SYMBOL_SIZE,
  ET_REL,
  GROUP_ENTRY_SIZE,
  SHT_DYNSYM,
  SHT_GROUP,
  SHT_NOBITS,
  SHT_REL,
  SHT_RELA,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
  SYMTAB_SHNDX_ENTRY_SIZE,
} from './constants.js';
import { readGroup } from './read-groups.js';
import type { HeaderInfo } from './read-header.js';
import { readHeader } from './read-header.js';
import { readRelocations } from './read-relocations.js';
import type { RawSectionHeader, SectionTable } from './read-sections.js';
import { buildSections, checkNoOverlap, readSectionHeaders } from './read-sections.js';
import { readSymbols } from './read-symbols.js';
import type { ElfSection } from './section.js';
import type { ElfFile, ElfSource, ElfSymbol } from './types.js';

export interface ParseOptions {
  /** Path or label for error messages. */
  file?: string;
  /**
   * Load only the headers, section names and the symbol table (with its string and index tables);
   * other sections get no data and the result cannot be written. For quick symbol lookups in vmlinux.
   */
  symbolsOnly?: boolean;
}

const FIXED_ENTRY_SIZES: ReadonlyMap<number, number> = new Map([
  [SHT_SYMTAB, ELF64_SYMBOL_SIZE],
  [SHT_DYNSYM, ELF64_SYMBOL_SIZE],
  [SHT_RELA, ELF64_RELA_SIZE],
  [SHT_REL, ELF64_REL_SIZE],
  [SHT_GROUP, GROUP_ENTRY_SIZE],
  [SHT_SYMTAB_SHNDX, SYMTAB_SHNDX_ENTRY_SIZE],
]);

/** Parses an ELF64 little-endian file held in memory. Section data are views of `buffer`, not copies. */
export function parseElf(buffer: Buffer, options: ParseOptions = {}): ElfFile {
  return parseElfSource(bufferSource(buffer, options.file), options);
}

function findSymbolTable(
  source: ByteSource,
  headers: readonly RawSectionHeader[],
): RawSectionHeader | undefined {
  const tables = headers.filter((h) => h.type === SHT_SYMTAB);
  if (tables.length > 1) {
    throw formatError(
      source.file,
      `more than one SHT_SYMTAB section (sections ${tables.map((t) => t.index).join(', ')})`,
    );
  }
  return tables[0];
}

/** In a symbols-only read: the symbol table and the tables it needs. */
function symbolTableParts(
  headers: readonly RawSectionHeader[],
  symtab: RawSectionHeader | undefined,
): Set<number> {
  const wanted = new Set<number>();
  if (!symtab) return wanted;
  wanted.add(symtab.index);
  wanted.add(symtab.link);
  for (const h of headers) if (h.type === SHT_SYMTAB_SHNDX && h.link === symtab.index) wanted.add(h.index);
  return wanted;
}

function isTheSymbolTable(link: ElfSection | number, symtab: ElfSection | undefined): boolean {
  return symtab !== undefined && link === symtab;
}

function decodeTables(
  source: ByteSource,
  info: HeaderInfo,
  table: SectionTable,
  symtab: ElfSection | undefined,
  symbols: readonly ElfSymbol[],
): void {
  const file = source.file;
  const isRelocatable = info.header.type === ET_REL;
  const claimed = new Map<ElfSection, ElfSection>();
  for (const header of table.headers) {
    const section = table.byIndex[header.index];
    if (!section) continue;
    if (header.type === SHT_GROUP) {
      if (!isTheSymbolTable(section.link, symtab)) {
        throw formatError(
          file,
          `sh_link of group section ${section.name} is not a symbol table`,
          header.at + 40,
        );
      }
      section.group = readGroup({
        file,
        section,
        fileOffset: header.offset,
        signatureIndex: header.info,
        symbols,
        sectionsByIndex: table.byIndex,
        claimed,
      });
    } else if (header.type === SHT_RELA || header.type === SHT_REL) {
      const link = section.link;
      if (!isTheSymbolTable(link, symtab)) {
        const linksDynamicSymbols = typeof link !== 'number' && link.type === SHT_DYNSYM;
        if (!isRelocatable && (link === 0 || linksDynamicSymbols)) continue; // kept as raw bytes
        throw formatError(
          file,
          `sh_link of relocation section ${section.name} is not a symbol table`,
          header.at + 40,
        );
      }
      const decode = () =>
        readRelocations({
          file,
          section,
          fileOffset: header.offset,
          symbols,
          machine: info.header.machine,
          checkOffsets: isRelocatable,
        });
      // Objects are decoded now so every problem shows at parse time; executables only on demand.
      if (isRelocatable) section.relocations = decode();
      else section.setRelocationDecoder(decode);
    }
  }
}

function readSymbolTable(
  source: ByteSource,
  table: SectionTable,
  symtabHeader: RawSectionHeader,
): ElfSymbol[] {
  const symtab = table.byIndex[symtabHeader.index]!;
  const shndxHeader = table.headers.find((h) => h.type === SHT_SYMTAB_SHNDX && h.link === symtabHeader.index);
  return readSymbols({
    file: source.file,
    symtab,
    fileOffset: symtabHeader.offset,
    extendedIndices: shndxHeader ? table.byIndex[shndxHeader.index]!.data : undefined,
    sectionsByIndex: table.byIndex,
  });
}

/** Parses from any byte source (a buffer, or an open file for symbols-only reads). */
export function parseElfSource(source: ByteSource, options: ParseOptions = {}): ElfFile {
  const info = readHeader(source);
  const elfSource: ElfSource = {
    buffer: options.symbolsOnly ? undefined : source.buffer,
    length: source.length,
    sectionHeaderOffset: info.sectionHeaderOffset,
    sectionHeaderCount: info.sectionCount,
    dataRanges: [],
  };
  const headers = readSectionHeaders(source, info);
  elfSource.dataRanges = headers
    .filter((h) => h.index !== 0 && h.type !== SHT_NOBITS && h.size > 0)
    .map((h) => [h.offset, h.offset + h.size] as const);
  const symtabHeader = findSymbolTable(source, headers);
  const wanted = options.symbolsOnly ? symbolTableParts(headers, symtabHeader) : undefined;
  const table = buildSections(
    source,
    info,
    headers,
    elfSource,
    (h) => wanted === undefined || wanted.has(h.index),
    FIXED_ENTRY_SIZES,
  );
  const symtab = symtabHeader ? table.byIndex[symtabHeader.index] : undefined;
  const symbols = symtabHeader ? readSymbolTable(source, table, symtabHeader) : [];
  // A frozen copy: relocations decoded later must map indices as they were read, whatever edits follow.
  const originalSymbols: readonly ElfSymbol[] = Object.freeze(symbols.slice());
  if (!options.symbolsOnly) decodeTables(source, info, table, symtab, originalSymbols);
  if (info.header.type === ET_REL) checkNoOverlap(source, table);
  const sections = table.byIndex.slice(1) as ElfSection[];
  return {
    file: source.file,
    header: info.header,
    sections,
    symtab,
    symbols,
    sectionNames: info.sectionNamesIndex === 0 ? undefined : table.byIndex[info.sectionNamesIndex],
    source: elfSource,
    originalSymbols,
    partial: options.symbolsOnly === true,
  };
}
