import { EM_X86_64 } from '../constants.js';
import type { RelocationRow } from './types.js';
import { archRelocations } from './types.js';

/** Relocation types later stages name in code; the full table is below. */
export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
export const R_X86_64_PC32 = 2;
export const R_X86_64_GOT32 = 3;
export const R_X86_64_PLT32 = 4;
export const R_X86_64_GOTPCREL = 9;
export const R_X86_64_32 = 10;
export const R_X86_64_32S = 11;
export const R_X86_64_16 = 12;
export const R_X86_64_PC16 = 13;
export const R_X86_64_8 = 14;
export const R_X86_64_PC8 = 15;
export const R_X86_64_PC64 = 24;
export const R_X86_64_GOTPCRELX = 41;
export const R_X86_64_REX_GOTPCRELX = 42;

// Type numbers from the x86-64 psABI (<elf.h>); 39 and 40 are retired (PC32_BND, PLT32_BND).
const ROWS: readonly RelocationRow[] = [
  ['R_X86_64_NONE', R_X86_64_NONE, 0, false],
  ['R_X86_64_64', R_X86_64_64, 8, false],
  ['R_X86_64_PC32', R_X86_64_PC32, 4, true],
  ['R_X86_64_GOT32', R_X86_64_GOT32, 4, false],
  ['R_X86_64_PLT32', R_X86_64_PLT32, 4, true],
  ['R_X86_64_COPY', 5, 0, false],
  ['R_X86_64_GLOB_DAT', 6, 8, false],
  ['R_X86_64_JUMP_SLOT', 7, 8, false],
  ['R_X86_64_RELATIVE', 8, 8, false],
  ['R_X86_64_GOTPCREL', R_X86_64_GOTPCREL, 4, true],
  ['R_X86_64_32', R_X86_64_32, 4, false],
  ['R_X86_64_32S', R_X86_64_32S, 4, false],
  ['R_X86_64_16', R_X86_64_16, 2, false],
  ['R_X86_64_PC16', R_X86_64_PC16, 2, true],
  ['R_X86_64_8', R_X86_64_8, 1, false],
  ['R_X86_64_PC8', R_X86_64_PC8, 1, true],
  ['R_X86_64_DTPMOD64', 16, 8, false],
  ['R_X86_64_DTPOFF64', 17, 8, false],
  ['R_X86_64_TPOFF64', 18, 8, false],
  ['R_X86_64_TLSGD', 19, 4, true],
  ['R_X86_64_TLSLD', 20, 4, true],
  ['R_X86_64_DTPOFF32', 21, 4, false],
  ['R_X86_64_GOTTPOFF', 22, 4, true],
  ['R_X86_64_TPOFF32', 23, 4, false],
  ['R_X86_64_PC64', R_X86_64_PC64, 8, true],
  ['R_X86_64_GOTOFF64', 25, 8, false],
  ['R_X86_64_GOTPC32', 26, 4, true],
  ['R_X86_64_GOT64', 27, 8, false],
  ['R_X86_64_GOTPCREL64', 28, 8, true],
  ['R_X86_64_GOTPC64', 29, 8, true],
  ['R_X86_64_GOTPLT64', 30, 8, false],
  ['R_X86_64_PLTOFF64', 31, 8, false],
  ['R_X86_64_SIZE32', 32, 4, false],
  ['R_X86_64_SIZE64', 33, 8, false],
  ['R_X86_64_GOTPC32_TLSDESC', 34, 4, true],
  ['R_X86_64_TLSDESC_CALL', 35, 0, false],
  ['R_X86_64_TLSDESC', 36, 16, false],
  ['R_X86_64_IRELATIVE', 37, 8, false],
  ['R_X86_64_RELATIVE64', 38, 8, false],
  ['R_X86_64_GOTPCRELX', R_X86_64_GOTPCRELX, 4, true],
  ['R_X86_64_REX_GOTPCRELX', R_X86_64_REX_GOTPCRELX, 4, true],
];

export const X86_64_RELOCATIONS = archRelocations(EM_X86_64, 'x86_64', ROWS);
