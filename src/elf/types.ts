import type { ElfSection } from './section.js';

/**
 * The editable object model of an ELF64 little-endian file. Cross references are object references
 * (a relocation names an ElfSymbol, a symbol an ElfSection), so edits never need index fixing:
 * every index is computed when the file is written.
 *
 * 64-bit quantities that can be addresses (symbol values and sizes, section addresses, relocation
 * offsets and addends, the entry point) are bigint so vmlinux addresses stay exact; file offsets,
 * sizes of data and small fields are numbers.
 */
export interface ElfFile {
  /** Path or label used in error messages. */
  file: string | undefined;
  header: ElfHeader;
  /** All sections except the null section at index 0; section i of the file is sections[i - 1]. */
  sections: ElfSection[];
  /** The SHT_SYMTAB section, if any. Its contents are generated from `symbols` when writing. */
  symtab: ElfSection | undefined;
  /** Entries of .symtab except the null symbol at index 0; written locals first. */
  symbols: ElfSymbol[];
  /** The section name string table (e_shstrndx); generated from section names when writing. */
  sectionNames: ElfSection | undefined;
  /** The parsed input, used to keep unchanged sections where they were; undefined for new files. */
  source: ElfSource | undefined;
  /** `symbols` as parsed, to tell whether symbol indices changed. */
  originalSymbols: readonly ElfSymbol[];
  /** True when only headers and the symbol table were loaded; such a file cannot be written. */
  partial: boolean;
}

export interface ElfHeader {
  osabi: number;
  abiVersion: number;
  /** e_type: ET_REL, ET_EXEC, ET_DYN, ... */
  type: number;
  /** e_machine: EM_X86_64, ... */
  machine: number;
  version: number;
  entry: bigint;
  flags: number;
  /** Raw program header table, kept as is (only executables and shared objects have one). */
  programHeaders: ProgramHeaderTable | undefined;
}

export interface ProgramHeaderTable {
  offset: number;
  count: number;
  data: Buffer;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: bigint;
  /** STB_* (st_info >> 4). */
  bind: number;
  /** STT_* (st_info & 0xf). */
  type: number;
  /** st_other; visibility is `other & 3`. */
  other: number;
  /** The section the symbol is defined in, or undefined for undefined/absolute/common/... symbols. */
  section: ElfSection | undefined;
  /**
   * The st_shndx to write when `section` is undefined: SHN_UNDEF, SHN_ABS, SHN_COMMON or another
   * reserved value (e.g. 0xff20), kept as read. Ignored when `section` is set.
   */
  specialIndex: number;
  /** st_name as read, reused when the name did not change; -1 for new symbols. */
  nameOffset: number;
}

export interface Relocation {
  /** r_offset: offset in the target section (ET_REL) or address (executables). */
  offset: bigint;
  /** Machine-specific relocation type (see arch/). */
  type: number;
  /** The symbol, or undefined for symbol index 0. */
  symbol: ElfSymbol | undefined;
  /** r_addend; always 0n for SHT_REL sections (the addend is in the section data there). */
  addend: bigint;
}

export interface ElfGroup {
  /** First word of the section, e.g. GRP_COMDAT. */
  flags: number;
  /** The signature symbol (sh_info of the group section). */
  signature: ElfSymbol | undefined;
  members: ElfSection[];
}

/** Where a section was in the parsed file; only meaningful for the ElfFile whose `source` matches. */
export interface SectionOrigin {
  source: ElfSource;
  index: number;
  offset: number;
  size: number;
  nameOffset: number;
}

/** The parsed bytes (when whole) and the locations of everything the headers described. */
export interface ElfSource {
  /** The whole input, when it was parsed from a buffer; undefined for partial reads. */
  buffer: Buffer | undefined;
  length: number;
  sectionHeaderOffset: number;
  sectionHeaderCount: number;
  /** File ranges [offset, end) that held section data; bytes outside them (padding) are kept when writing. */
  dataRanges: ReadonlyArray<readonly [number, number]>;
}
