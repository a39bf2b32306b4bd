import type { SpecialTable } from './types.js';

/**
 * ORC unwind data: `.orc_unwind_ip` holds one relocated instruction pointer per entry and `.orc_unwind`
 * the matching unwind entry at the same index, so both are cut with the same kept indices.
 */
export const ORC_UNWIND_IP: SpecialTable = {
  name: '.orc_unwind_ip',
  layout: { kind: 'per-relocation' },
  companion: { name: '.orc_unwind', sizeName: 'ORC_STRUCT_SIZE', fallback: 6 },
};
