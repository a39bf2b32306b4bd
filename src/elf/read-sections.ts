import type { ByteSource } from './byte-source.js';
import { formatError, readU64AsNumber } from './byte-source.js';
import {
  ELF64_HEADER_SIZE,
  ELF64_SECTION_HEADER_SIZE,
  SECTION_TYPES_LINKING_A_SECTION,
  SHF_INFO_LINK,
  SHF_LINK_ORDER,
  SHT_GROUP,
  SHT_NOBITS,
  SHT_REL,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
} from './constants.js';
import type { HeaderInfo } from './read-header.js';
import { ElfSection } from './section.js';
import { stringAt } from './string-table.js';
import type { ElfSource } from './types.js';

/** A section header as stored, before names and cross references are resolved. */
export interface RawSectionHeader {
  index: number;
  name: number;
  type: number;
  flags: number;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** File offset of this header, for error messages. */
  at: number;
}

export interface SectionTable {
  headers: RawSectionHeader[];
  /** Index i holds the section with file index i; index 0 is undefined (the null section). */
  byIndex: (ElfSection | undefined)[];
}

function headerOffset(info: HeaderInfo, index: number): number {
  return info.sectionHeaderOffset + index * ELF64_SECTION_HEADER_SIZE;
}

/** Reads and checks the raw section headers (index 0 included). */
export function readSectionHeaders(source: ByteSource, info: HeaderInfo): RawSectionHeader[] {
  const file = source.file;
  const table = source.bytes(
    info.sectionHeaderOffset,
    info.sectionCount * ELF64_SECTION_HEADER_SIZE,
    'section header table',
  );
  const headers: RawSectionHeader[] = [];
  for (let index = 0; index < info.sectionCount; index++) {
    const p = index * ELF64_SECTION_HEADER_SIZE;
    const at = headerOffset(info, index);
    if (table.readUInt32LE(p + 12) !== 0) {
      throw formatError(file, `section [${index}] has flags in the upper 32 bits of sh_flags`, at + 8);
    }
    const addralign = readU64AsNumber(table, p + 48, `sh_addralign of section [${index}]`, file, at + 48);
    if (addralign > 0x100000000 || (addralign & (addralign - 1)) !== 0) {
      throw formatError(
        file,
        `section [${index}] has a bad alignment ${addralign} (not a power of two)`,
        at + 48,
      );
    }
    headers.push({
      index,
      name: table.readUInt32LE(p),
      type: table.readUInt32LE(p + 4),
      flags: table.readUInt32LE(p + 8),
      addr: table.readBigUInt64LE(p + 16),
      offset: readU64AsNumber(table, p + 24, `sh_offset of section [${index}]`, file, at + 24),
      size: readU64AsNumber(table, p + 32, `sh_size of section [${index}]`, file, at + 32),
      link: table.readUInt32LE(p + 40),
      info: table.readUInt32LE(p + 44),
      addralign,
      entsize: readU64AsNumber(table, p + 56, `sh_entsize of section [${index}]`, file, at + 56),
      at,
    });
  }
  return headers;
}

function readNames(source: ByteSource, info: HeaderInfo, headers: RawSectionHeader[]): string[] {
  const names = headers.map(() => '');
  if (info.sectionNamesIndex === 0) return names;
  const table = headers[info.sectionNamesIndex]!;
  if (table.type !== SHT_STRTAB) {
    throw formatError(
      source.file,
      `section name string table [${table.index}] is not a string table (type ${table.type})`,
      table.at + 4,
    );
  }
  const strings = source.bytes(table.offset, table.size, `section name string table [${table.index}]`);
  for (const header of headers) {
    if (header.index === 0) continue;
    const name = stringAt(strings, header.name);
    if (name === undefined) {
      throw formatError(
        source.file,
        `name of section [${header.index}] (offset ${header.name} in the section name table of size ${strings.length}) is out of range or unterminated`,
        header.at,
      );
    }
    names[header.index] = name;
  }
  return names;
}

function checkPlacement(source: ByteSource, info: HeaderInfo, header: RawSectionHeader, name: string): void {
  if (header.type === SHT_NOBITS || header.size === 0) return;
  const where = `data of section [${header.index}] ${name}`;
  if (header.offset > source.length || header.size > source.length - header.offset) {
    throw formatError(
      source.file,
      `${where} (offset 0x${header.offset.toString(16)}, size 0x${header.size.toString(16)}) extends past the end of the file (size 0x${source.length.toString(16)}); truncated or offset out of range`,
      header.at + 24,
    );
  }
  const tableStart = info.sectionHeaderOffset;
  const tableEnd = tableStart + info.sectionCount * ELF64_SECTION_HEADER_SIZE;
  if (
    header.offset < ELF64_HEADER_SIZE ||
    (header.offset < tableEnd && header.offset + header.size > tableStart)
  ) {
    throw formatError(
      source.file,
      `${where} overlaps the ELF header or the section header table`,
      header.at + 24,
    );
  }
}

/** The fixed entry size a table section must declare; a wrong one means we would misread it. */
function checkEntrySize(source: ByteSource, header: RawSectionHeader, name: string, expected: number): void {
  const label = `section [${header.index}] ${name}`;
  if (header.entsize !== expected) {
    throw formatError(
      source.file,
      `${label} has bad entry size ${header.entsize} (sh_entsize), expected ${expected}`,
      header.at + 56,
    );
  }
  if (header.size % expected !== 0) {
    throw formatError(
      source.file,
      `${label} size ${header.size} is not a multiple of its entry size ${expected}`,
      header.at + 32,
    );
  }
}

function resolveLink(
  source: ByteSource,
  header: RawSectionHeader,
  name: string,
  byIndex: SectionTable['byIndex'],
) {
  const required = SECTION_TYPES_LINKING_A_SECTION.has(header.type) || (header.flags & SHF_LINK_ORDER) !== 0;
  if (header.link === 0) return 0;
  const target = byIndex[header.link];
  if (target) return target;
  if (!required) return header.link;
  throw formatError(
    source.file,
    `sh_link ${header.link} of section [${header.index}] ${name} is not a valid section index (${byIndex.length} sections)`,
    header.at + 40,
  );
}

function resolveInfo(
  source: ByteSource,
  header: RawSectionHeader,
  name: string,
  byIndex: SectionTable['byIndex'],
) {
  const isRelocation = header.type === SHT_RELA || header.type === SHT_REL;
  const isSectionIndex = isRelocation || (header.flags & SHF_INFO_LINK) !== 0;
  if (!isSectionIndex || header.info === 0 || header.type === SHT_GROUP || header.type === SHT_SYMTAB) {
    return header.info;
  }
  const target = byIndex[header.info];
  if (!target) {
    throw formatError(
      source.file,
      `sh_info ${header.info} of section [${header.index}] ${name} is not a valid section index (${byIndex.length} sections)`,
      header.at + 44,
    );
  }
  if (header.info === header.index) {
    throw formatError(
      source.file,
      isRelocation
        ? `relocation section [${header.index}] ${name} applies to itself`
        : `sh_info of section [${header.index}] ${name} points to itself`,
      header.at + 44,
    );
  }
  return target;
}

/**
 * Validates the section headers, creates the sections (data as views of the input) and resolves
 * sh_link/sh_info section indices to section references.
 */
export function buildSections(
  source: ByteSource,
  info: HeaderInfo,
  headers: RawSectionHeader[],
  elfSource: ElfSource,
  loadData: (header: RawSectionHeader) => boolean,
  fixedEntrySizes: ReadonlyMap<number, number>,
): SectionTable {
  const names = readNames(source, info, headers);
  const byIndex: (ElfSection | undefined)[] = [undefined];
  for (const header of headers) {
    if (header.index === 0) continue;
    const name = names[header.index]!;
    checkPlacement(source, info, header, name);
    const entsize = fixedEntrySizes.get(header.type);
    if (entsize !== undefined) checkEntrySize(source, header, name, entsize);
    const load = header.type !== SHT_NOBITS && loadData(header);
    const section = new ElfSection({
      name,
      type: header.type,
      flags: header.flags,
      addr: header.addr,
      addralign: header.addralign,
      entsize: header.entsize,
      size: header.size,
      dataLoaded: header.type === SHT_NOBITS || load,
      data: load
        ? source.bytes(header.offset, header.size, `data of section [${header.index}] ${name}`)
        : undefined,
    });
    section.origin = {
      source: elfSource,
      index: header.index,
      offset: header.offset,
      size: header.type === SHT_NOBITS ? 0 : header.size,
      nameOffset: header.name,
    };
    byIndex.push(section);
  }
  for (const header of headers) {
    const section = byIndex[header.index];
    if (!section) continue;
    section.link = resolveLink(source, header, section.name, byIndex);
    section.info = resolveInfo(source, header, section.name, byIndex);
  }
  return { headers, byIndex };
}

/** Data of sections of an ET_REL file must not share bytes: edits of one would corrupt the other. */
export function checkNoOverlap(source: ByteSource, table: SectionTable): void {
  const placed = table.headers
    .filter((h) => h.index !== 0 && h.type !== SHT_NOBITS && h.size > 0)
    .sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < placed.length; i++) {
    const previous = placed[i - 1]!;
    const current = placed[i]!;
    if (current.offset < previous.offset + previous.size) {
      throw formatError(
        source.file,
        `data of sections [${previous.index}] ${table.byIndex[previous.index]?.name} and [${current.index}] ${table.byIndex[current.index]?.name} overlap`,
        current.at + 24,
      );
    }
  }
}
