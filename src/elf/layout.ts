import { formatError } from './byte-source.js';
import { ELF64_HEADER_SIZE, ELF64_SECTION_HEADER_SIZE } from './constants.js';

/** File alignment is capped: ET_REL readers do not need more, and a huge sh_addralign must not bloat the file. */
const MAX_FILE_ALIGNMENT = 0x10000;

export type LayoutMode = 'preserve' | 'fresh';

export interface LayoutSection {
  name: string;
  /** Bytes in the file (0 for SHT_NOBITS). */
  fileSize: number;
  noBits: boolean;
  addralign: number;
  /** Offset and size it had in the parsed file, when it comes from that file. */
  original: { offset: number; size: number } | undefined;
  /** Allocated sections of files with program headers cannot move: segments map them by offset. */
  pinned: boolean;
}

export interface LayoutInput {
  file: string | undefined;
  mode: LayoutMode;
  sections: readonly LayoutSection[];
  /** Number of section headers to write including the null one; 0 for no table. */
  headerCount: number;
  programHeaders: { offset: number; size: number } | undefined;
  /** The parsed file, when sections may keep their places in it. */
  original: { length: number; sectionHeaderOffset: number; sectionHeaderCount: number } | undefined;
}

export interface Layout {
  sectionOffsets: number[];
  sectionHeaderOffset: number;
  fileSize: number;
}

function alignUp(offset: number, alignment: number): number {
  const a = Math.min(Math.max(alignment, 1), MAX_FILE_ALIGNMENT);
  return Math.ceil(offset / a) * a;
}

/**
 * Places sections and the section header table. In 'preserve' mode everything that still fits where
 * it was stays there (so an unchanged file is rewritten byte for byte) and the rest is appended; in
 * 'fresh' mode (or for new files) sections are laid out in index order after the ELF header.
 */
export function layoutFile(input: LayoutInput): Layout {
  const { sections, original } = input;
  const preserve = input.mode === 'preserve' && original !== undefined;
  if (!preserve && input.programHeaders) {
    throw formatError(
      input.file,
      'cannot write: files with program headers can only be written in preserve layout',
    );
  }
  const offsets = new Array<number>(sections.length).fill(-1);
  let end = ELF64_HEADER_SIZE;
  if (input.programHeaders) end = Math.max(end, input.programHeaders.offset + input.programHeaders.size);
  if (preserve) {
    end = Math.max(end, original.length);
    sections.forEach((s, i) => {
      if (!s.original) return;
      if (s.noBits || s.fileSize <= s.original.size) offsets[i] = s.original.offset;
      else if (s.pinned) {
        throw formatError(
          input.file,
          `cannot write: allocated section ${s.name} grew and cannot move in a file with program headers`,
        );
      }
    });
  }
  sections.forEach((s, i) => {
    if (offsets[i] !== -1) return;
    const offset = alignUp(end, s.addralign);
    offsets[i] = offset;
    if (!s.noBits) end = offset + s.fileSize;
  });
  const tableSize = input.headerCount * ELF64_SECTION_HEADER_SIZE;
  let sectionHeaderOffset = 0;
  if (input.headerCount > 0) {
    const keepTable =
      preserve && original.sectionHeaderOffset !== 0 && input.headerCount <= original.sectionHeaderCount;
    sectionHeaderOffset = keepTable ? original.sectionHeaderOffset : alignUp(end, 8);
    end = Math.max(end, sectionHeaderOffset + tableSize);
  }
  return { sectionOffsets: offsets, sectionHeaderOffset, fileSize: end };
}
