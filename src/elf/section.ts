import { SHT_NOBITS } from './constants.js';
import type { ElfGroup, Relocation, SectionOrigin } from './types.js';

const NO_DATA = Buffer.alloc(0);

export interface SectionInit {
  name: string;
  type: number;
  flags?: number;
  addr?: bigint;
  addralign?: number;
  entsize?: number;
  link?: ElfSection | number;
  info?: ElfSection | number;
  /** Contents; ignored for SHT_NOBITS. */
  data?: Buffer;
  /** Size of a SHT_NOBITS section, or of a section whose data was not loaded. */
  size?: number;
  /** False when the reader skipped the data (partial reads); `size` then still reports sh_size. */
  dataLoaded?: boolean;
}

/**
 * One section. `data` holds the contents for every type but SHT_NOBITS. For the symbol table, string
 * tables, relocation and group sections the contents are generated from the model when writing
 * (`relocations`, `group`, the file's symbols and names), so `data` there is just what was read.
 */
export class ElfSection {
  name: string;
  type: number;
  /** sh_flags (the upper 32 bits are never used by any ABI and are rejected when reading). */
  flags: number;
  addr: bigint;
  addralign: number;
  entsize: number;
  /** A section when sh_link is a section index, else the raw value (usually 0). */
  link: ElfSection | number;
  /**
   * A section when sh_info is a section index (relocation target, SHF_INFO_LINK), else the raw value.
   * Recomputed when writing .symtab (first non-local index) and group sections (signature symbol).
   */
  info: ElfSection | number;
  data: Buffer;
  /** Size of a SHT_NOBITS section, which has no data in the file. */
  noBitsSize: number;
  /** Set for SHT_GROUP sections linked to the symbol table. */
  group: ElfGroup | undefined;
  /** Where the section came from; undefined for sections created by edits. */
  origin: SectionOrigin | undefined;

  #unloadedSize: number | undefined;
  #relocations: Relocation[] | undefined;
  #decodeRelocations: (() => Relocation[]) | undefined;

  constructor(init: SectionInit) {
    this.name = init.name;
    this.type = init.type;
    this.flags = init.flags ?? 0;
    this.addr = init.addr ?? 0n;
    this.addralign = init.addralign ?? 1;
    this.entsize = init.entsize ?? 0;
    this.link = init.link ?? 0;
    this.info = init.info ?? 0;
    this.data = init.type === SHT_NOBITS ? NO_DATA : (init.data ?? NO_DATA);
    this.noBitsSize = init.type === SHT_NOBITS ? (init.size ?? 0) : 0;
    this.group = undefined;
    this.origin = undefined;
    this.#unloadedSize = init.dataLoaded === false && init.type !== SHT_NOBITS ? (init.size ?? 0) : undefined;
  }

  /** sh_size: the data length, or noBitsSize for SHT_NOBITS. */
  get size(): number {
    if (this.type === SHT_NOBITS) return this.noBitsSize;
    return this.#unloadedSize ?? this.data.length;
  }

  /** False for sections of a partial read, whose data was skipped. */
  get dataLoaded(): boolean {
    return this.#unloadedSize === undefined;
  }

  /**
   * Entries of a SHT_REL/SHT_RELA section against the symbol table; undefined for other sections and
   * for relocation sections against the dynamic symbol table. Decoded on first use in executables.
   */
  get relocations(): Relocation[] | undefined {
    if (this.#decodeRelocations) {
      const decode = this.#decodeRelocations;
      this.#relocations = decode();
      this.#decodeRelocations = undefined;
    }
    return this.#relocations;
  }

  set relocations(relocations: Relocation[] | undefined) {
    this.#relocations = relocations;
    this.#decodeRelocations = undefined;
  }

  /** True while relocations are still only the bytes read (so they can be written back as they were). */
  get relocationsPending(): boolean {
    return this.#decodeRelocations !== undefined;
  }

  /** Used by the reader: decode relocations only when someone asks for them. */
  setRelocationDecoder(decode: () => Relocation[]): void {
    this.#relocations = undefined;
    this.#decodeRelocations = decode;
  }
}
