import { EM_AARCH64 } from '../constants.js';
import type { RelocationRow } from './types.js';
import { archRelocations } from './types.js';

// The common static relocations of the AArch64 ELF ABI (<elf.h>); instruction fields are 4 bytes wide.
const ROWS: readonly RelocationRow[] = [
  ['R_AARCH64_NONE', 0, 0, false],
  ['R_AARCH64_ABS64', 257, 8, false],
  ['R_AARCH64_ABS32', 258, 4, false],
  ['R_AARCH64_ABS16', 259, 2, false],
  ['R_AARCH64_PREL64', 260, 8, true],
  ['R_AARCH64_PREL32', 261, 4, true],
  ['R_AARCH64_PREL16', 262, 2, true],
  ['R_AARCH64_MOVW_UABS_G0', 263, 4, false],
  ['R_AARCH64_MOVW_UABS_G0_NC', 264, 4, false],
  ['R_AARCH64_MOVW_UABS_G1', 265, 4, false],
  ['R_AARCH64_MOVW_UABS_G1_NC', 266, 4, false],
  ['R_AARCH64_MOVW_UABS_G2', 267, 4, false],
  ['R_AARCH64_MOVW_UABS_G2_NC', 268, 4, false],
  ['R_AARCH64_MOVW_UABS_G3', 269, 4, false],
  ['R_AARCH64_LD_PREL_LO19', 273, 4, true],
  ['R_AARCH64_ADR_PREL_LO21', 274, 4, true],
  ['R_AARCH64_ADR_PREL_PG_HI21', 275, 4, true],
  ['R_AARCH64_ADR_PREL_PG_HI21_NC', 276, 4, true],
  ['R_AARCH64_ADD_ABS_LO12_NC', 277, 4, false],
  ['R_AARCH64_LDST8_ABS_LO12_NC', 278, 4, false],
  ['R_AARCH64_TSTBR14', 279, 4, true],
  ['R_AARCH64_CONDBR19', 280, 4, true],
  ['R_AARCH64_JUMP26', 282, 4, true],
  ['R_AARCH64_CALL26', 283, 4, true],
  ['R_AARCH64_LDST16_ABS_LO12_NC', 284, 4, false],
  ['R_AARCH64_LDST32_ABS_LO12_NC', 285, 4, false],
  ['R_AARCH64_LDST64_ABS_LO12_NC', 286, 4, false],
  ['R_AARCH64_LDST128_ABS_LO12_NC', 299, 4, false],
  ['R_AARCH64_ADR_GOT_PAGE', 311, 4, true],
  ['R_AARCH64_LD64_GOT_LO12_NC', 312, 4, false],
];

export const AARCH64_RELOCATIONS = archRelocations(EM_AARCH64, 'aarch64', ROWS);
