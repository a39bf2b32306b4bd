import type { ByteSource } from './byte-source.js';
import { formatError, readU64AsNumber } from './byte-source.js';
import {
  ELF_MAGIC,
  ELF64_HEADER_SIZE,
  ELF64_PROGRAM_HEADER_SIZE,
  ELF64_SECTION_HEADER_SIZE,
  ELFCLASS32,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFDATA2MSB,
  PN_XNUM,
  SHN_XINDEX,
} from './constants.js';
import type { ElfHeader } from './types.js';

/** The ELF header plus table locations, with extended numbering (counts in section 0) resolved. */
export interface HeaderInfo {
  header: ElfHeader;
  sectionHeaderOffset: number;
  /** Number of section headers including the null one at index 0. */
  sectionCount: number;
  /** Index of the section name string table, 0 if none. */
  sectionNamesIndex: number;
  programHeaderOffset: number;
  programHeaderCount: number;
}

function checkIdent(source: ByteSource, ident: Buffer): void {
  const file = source.file;
  if (!ident.subarray(0, 4).equals(ELF_MAGIC))
    throw formatError(file, 'not an ELF file (bad magic number)', 0);
  const elfClass = ident[4];
  if (elfClass === ELFCLASS32)
    throw formatError(file, 'ELF32 (32-bit class) is not supported, only ELF64', 4);
  if (elfClass !== ELFCLASS64)
    throw formatError(file, `unknown ELF class ${elfClass}, only ELF64 is supported`, 4);
  const data = ident[5];
  if (data === ELFDATA2MSB) throw formatError(file, 'big-endian ELF is not supported, only little-endian', 5);
  if (data !== ELFDATA2LSB) throw formatError(file, `unknown ELF data encoding ${data}`, 5);
}

export function readHeader(source: ByteSource): HeaderInfo {
  const file = source.file;
  if (source.length < ELF64_HEADER_SIZE) {
    if (source.length >= 6) checkIdent(source, source.bytes(0, 6, 'ELF identification'));
    throw formatError(file, `file truncated: ${source.length} bytes is too small for an ELF64 header`);
  }
  const eh = source.bytes(0, ELF64_HEADER_SIZE, 'ELF header');
  checkIdent(source, eh);

  const programHeaderOffset = readU64AsNumber(eh, 32, 'e_phoff', file, 32);
  const sectionHeaderOffset = readU64AsNumber(eh, 40, 'e_shoff', file, 40);
  const phentsize = eh.readUInt16LE(54);
  let programHeaderCount = eh.readUInt16LE(56);
  const shentsize = eh.readUInt16LE(58);
  let sectionCount = eh.readUInt16LE(60);
  let sectionNamesIndex = eh.readUInt16LE(62);

  if (sectionHeaderOffset !== 0) {
    if (shentsize !== ELF64_SECTION_HEADER_SIZE) {
      throw formatError(file, `bad section header entry size ${shentsize} (e_shentsize), expected 64`, 58);
    }
    // Extended numbering: counts that do not fit 16 bits live in the null section header.
    const needsSectionZero =
      sectionCount === 0 || sectionNamesIndex === SHN_XINDEX || programHeaderCount === PN_XNUM;
    if (needsSectionZero) {
      const zero = source.bytes(sectionHeaderOffset, ELF64_SECTION_HEADER_SIZE, 'section header 0');
      if (sectionCount === 0) {
        sectionCount = readU64AsNumber(
          zero,
          32,
          'section count (sh_size of section 0)',
          file,
          sectionHeaderOffset,
        );
      }
      if (sectionNamesIndex === SHN_XINDEX) sectionNamesIndex = zero.readUInt32LE(40);
      if (programHeaderCount === PN_XNUM) programHeaderCount = zero.readUInt32LE(44);
    }
    if (
      sectionCount >
      (source.length - Math.min(source.length, sectionHeaderOffset)) / ELF64_SECTION_HEADER_SIZE
    ) {
      throw formatError(
        file,
        `section header table (${sectionCount} entries at 0x${sectionHeaderOffset.toString(16)}) extends past the end of the file; truncated or bad count`,
        40,
      );
    }
  } else {
    sectionCount = 0;
    sectionNamesIndex = 0;
  }
  if (sectionNamesIndex !== 0 && sectionNamesIndex >= sectionCount) {
    throw formatError(
      file,
      `section name string table index ${sectionNamesIndex} (e_shstrndx) is out of range (${sectionCount} sections)`,
      62,
    );
  }

  if (programHeaderCount > 0) {
    if (phentsize !== ELF64_PROGRAM_HEADER_SIZE) {
      throw formatError(file, `bad program header entry size ${phentsize} (e_phentsize), expected 56`, 54);
    }
    if (programHeaderCount > (source.length - Math.min(source.length, programHeaderOffset)) / phentsize) {
      throw formatError(
        file,
        'program header table extends past the end of the file; truncated or bad count',
        32,
      );
    }
  }

  const header: ElfHeader = {
    osabi: eh[7] ?? 0,
    abiVersion: eh[8] ?? 0,
    type: eh.readUInt16LE(16),
    machine: eh.readUInt16LE(18),
    version: eh.readUInt32LE(20),
    entry: eh.readBigUInt64LE(24),
    flags: eh.readUInt32LE(48),
    programHeaders:
      programHeaderCount > 0
        ? {
            offset: programHeaderOffset,
            count: programHeaderCount,
            data: source.bytes(programHeaderOffset, programHeaderCount * phentsize, 'program header table'),
          }
        : undefined,
  };
  return {
    header,
    sectionHeaderOffset,
    sectionCount,
    sectionNamesIndex,
    programHeaderOffset,
    programHeaderCount,
  };
}
