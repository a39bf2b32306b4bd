import { formatError } from './byte-source.js';
import {
  ELF64_REL_SIZE,
  ELF64_RELA_SIZE,
  ELF64_SYMBOL_SIZE,
  GROUP_ENTRY_SIZE,
  SHN_LORESERVE,
  SHT_GROUP,
  SHT_NOBITS,
  SHT_REL,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB_SHNDX,
  SYMTAB_SHNDX_ENTRY_SIZE,
} from './constants.js';
import type { EncodedSymbols, IndexMaps } from './encode-tables.js';
import {
  encodeGroup,
  encodeRelocations,
  encodeSymbols,
  indexOfSection,
  indexOfSymbol,
  symbolsInFileOrder,
} from './encode-tables.js';
import { ElfSection } from './section.js';
import { StringTableBuilder } from './string-table.js';
import type { ElfFile, ElfSymbol } from './types.js';

/** A section as it will be written: resolved name offset, contents and header numbers. */
export interface PlannedSection {
  section: ElfSection;
  nameOffset: number;
  /** Bytes to write; undefined for SHT_NOBITS. */
  content: Buffer | undefined;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

export interface WritePlan {
  sections: PlannedSection[];
  /** Section headers to write, the null one included; 0 when the file has no section table. */
  headerCount: number;
  sectionNamesIndex: number;
}

// Names are byte strings held as latin1; NUL would end them early and wider characters cannot be stored.
const UNWRITABLE_NAME = /[\0\u0100-\uffff]/;

function checkName(file: string | undefined, name: string, what: string): void {
  if (UNWRITABLE_NAME.test(name)) {
    throw formatError(
      file,
      `cannot write: ${what} name ${JSON.stringify(name)} contains NUL or non-byte characters`,
    );
  }
}

function checkSectionFields(file: string | undefined, s: ElfSection): void {
  const int = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;
  const ok =
    int(s.type, 0, 0xffffffff) &&
    int(s.flags, -0x80000000, 0xffffffff) &&
    int(s.addralign, 0, Number.MAX_SAFE_INTEGER) &&
    int(s.entsize, 0, Number.MAX_SAFE_INTEGER) &&
    int(s.size, 0, Number.MAX_SAFE_INTEGER) &&
    s.addr >= 0n &&
    s.addr < 1n << 64n;
  if (!ok) throw formatError(file, `cannot write: section ${s.name} has a header field out of range`);
  checkName(file, s.name, 'section');
}

function indexMap<T>(
  file: string | undefined,
  items: readonly T[],
  what: (item: T) => string,
): Map<T, number> {
  const map = new Map<T, number>();
  items.forEach((item, i) => {
    if (map.has(item)) throw formatError(file, `cannot write: ${what(item)} appears twice`);
    map.set(item, i + 1);
  });
  return map;
}

function sameSymbols(elf: ElfFile, ordered: readonly ElfSymbol[]): boolean {
  const original = elf.originalSymbols;
  if (ordered.length !== original.length) return false;
  for (let i = 0; i < ordered.length; i++) if (ordered[i] !== original[i]) return false;
  return true;
}

function symbolStringTable(
  elf: ElfFile,
  sectionIndex: ReadonlyMap<ElfSection, number>,
): ElfSection | undefined {
  const symtab = elf.symtab;
  if (!symtab) {
    if (elf.symbols.length > 0)
      throw formatError(elf.file, 'cannot write: symbols but no symbol table section');
    return undefined;
  }
  indexOfSection({ file: elf.file, sectionIndex, symbolIndex: new Map() }, symtab, 'the symbol table');
  const strtab = symtab.link;
  if (typeof strtab === 'number' || strtab.type !== SHT_STRTAB) {
    throw formatError(elf.file, `cannot write: symbol table ${symtab.name} does not link to a string table`);
  }
  return strtab;
}

/** The SHT_SYMTAB_SHNDX section to use, creating one when some symbol's section index needs it. */
function extendedIndexSection(elf: ElfFile, sections: ElfSection[], sectionIndex: Map<ElfSection, number>) {
  const symtab = elf.symtab;
  if (!symtab) return undefined;
  const existing = sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === symtab);
  if (existing) return existing;
  const needed = elf.symbols.some((s) => s.section && (sectionIndex.get(s.section) ?? 0) >= SHN_LORESERVE);
  if (!needed) return undefined;
  const added = new ElfSection({
    name: '.symtab_shndx',
    type: SHT_SYMTAB_SHNDX,
    addralign: 4,
    entsize: SYMTAB_SHNDX_ENTRY_SIZE,
    link: symtab,
  });
  sections.push(added);
  sectionIndex.set(added, sections.length);
  return added;
}

function sectionNameOffsets(
  elf: ElfFile,
  sections: readonly ElfSection[],
  names: StringTableBuilder | undefined,
) {
  return sections.map((s) => {
    checkSectionFields(elf.file, s);
    if (names) return names.offsetOf(s.name, s.origin?.nameOffset ?? -1);
    if (s.name !== '')
      throw formatError(
        elf.file,
        `cannot write: section ${s.name} has a name but there is no section name table`,
      );
    return 0;
  });
}

/** Relocation sections whose entries are generated from the model (those against .symtab). */
function isRelocationTable(elf: ElfFile, section: ElfSection): boolean {
  if (section.type !== SHT_RELA && section.type !== SHT_REL) return false;
  if (section.link === elf.symtab && elf.symtab !== undefined) return true;
  return !section.relocationsPending && section.relocations !== undefined;
}

/** What planning one section needs to know about the whole file. */
interface PlanContext {
  elf: ElfFile;
  maps: IndexMaps;
  strtab: ElfSection | undefined;
  shndxSection: ElfSection | undefined;
  sectionNames: StringTableBuilder | undefined;
  symbolNames: StringTableBuilder | undefined;
  encoded: EncodedSymbols | undefined;
  symbolCount: number;
  /** Symbols are exactly as read, so relocation bytes not yet decoded are still right. */
  unchangedSymbols: boolean;
}

function checkHeaderWord(file: string | undefined, value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw formatError(file, `cannot write: ${what} is out of range`);
  }
  return value;
}

/** Contents, sh_link, sh_info and sh_entsize of one section; generated tables are encoded here. */
function planSection(ctx: PlanContext, section: ElfSection, nameOffset: number): PlannedSection {
  const { elf, maps, encoded } = ctx;
  const where = `section ${section.name}`;
  let content: Buffer | undefined = section.type === SHT_NOBITS ? undefined : section.data;
  let info =
    typeof section.info === 'number'
      ? section.info
      : indexOfSection(maps, section.info, `sh_info of ${where}`);
  let entsize = section.entsize;
  if (section === elf.symtab && encoded) {
    content = encoded.table;
    info = encoded.firstNonLocal;
    entsize = ELF64_SYMBOL_SIZE;
  } else if (section === ctx.shndxSection && encoded) {
    content = encoded.extendedIndices ?? Buffer.alloc((ctx.symbolCount + 1) * SYMTAB_SHNDX_ENTRY_SIZE);
    entsize = SYMTAB_SHNDX_ENTRY_SIZE;
  } else if (section === ctx.strtab) {
    content = ctx.symbolNames?.finish();
  } else if (section === elf.sectionNames) {
    content = ctx.sectionNames?.finish();
  } else if (isRelocationTable(elf, section)) {
    if (section.link !== elf.symtab) {
      throw formatError(
        maps.file,
        `cannot write: ${where} has relocations but sh_link is not the symbol table`,
      );
    }
    entsize = section.type === SHT_RELA ? ELF64_RELA_SIZE : ELF64_REL_SIZE;
    const keepBytes = section.relocationsPending && ctx.unchangedSymbols;
    const relocations = keepBytes ? undefined : section.relocations;
    if (relocations) content = encodeRelocations(maps, section, relocations);
  } else if (section.type === SHT_GROUP && section.group) {
    content = encodeGroup(maps, section, section.group);
    info = indexOfSymbol(maps, section.group.signature, `group ${section.name}`);
    entsize = GROUP_ENTRY_SIZE;
  }
  const link =
    typeof section.link === 'number'
      ? section.link
      : indexOfSection(maps, section.link, `sh_link of ${where}`);
  return {
    section,
    nameOffset,
    content,
    size: content ? content.length : section.size,
    link: checkHeaderWord(maps.file, link, `sh_link of ${where}`),
    info: checkHeaderWord(maps.file, info, `sh_info of ${where}`),
    entsize,
  };
}

/** Decides every index, name offset and generated table before anything is laid out. */
export function planWrite(elf: ElfFile): WritePlan {
  const file = elf.file;
  const sections = [...elf.sections];
  const sectionIndex = indexMap(file, sections, (s) => `section ${s.name}`);
  const strtab = symbolStringTable(elf, sectionIndex);
  const shndxSection = extendedIndexSection(elf, sections, sectionIndex);
  const ordered = symbolsInFileOrder(elf.symbols);
  const maps: IndexMaps = {
    file,
    sectionIndex,
    symbolIndex: indexMap(file, ordered, (s) => `symbol ${s.name}`),
  };
  const shstrtab = elf.sectionNames;
  if (shstrtab) indexOfSection(maps, shstrtab, 'e_shstrndx');
  // Section and symbol names must all be placed before a shared string table is finished.
  const sectionNames = shstrtab ? new StringTableBuilder(shstrtab.data) : undefined;
  let symbolNames: StringTableBuilder | undefined;
  if (strtab) symbolNames = strtab === shstrtab ? sectionNames : new StringTableBuilder(strtab.data);
  const nameOffsets = sectionNameOffsets(elf, sections, sectionNames);
  for (const symbol of ordered) checkName(file, symbol.name, 'symbol');
  const encoded = symbolNames
    ? encodeSymbols(maps, ordered, symbolNames, shndxSection !== undefined)
    : undefined;
  const ctx: PlanContext = {
    elf,
    maps,
    strtab,
    shndxSection,
    sectionNames,
    symbolNames,
    encoded,
    symbolCount: ordered.length,
    unchangedSymbols: sameSymbols(elf, ordered),
  };
  const hadTable = (elf.source?.sectionHeaderCount ?? 0) > 0;
  return {
    sections: sections.map((section, i) => planSection(ctx, section, nameOffsets[i]!)),
    headerCount: sections.length > 0 || hadTable ? sections.length + 1 : 0,
    sectionNamesIndex: shstrtab ? sectionIndex.get(shstrtab)! : 0,
  };
}
