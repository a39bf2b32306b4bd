import type { SpecialTable } from './types.js';

/**
 * Alternatives: original instruction and its replacement in `.altinstr_replacement`. Kept entries pull
 * the replacement section in through their relocations.
 */
export const ALT_INSTRUCTIONS: SpecialTable = {
  name: '.altinstructions',
  layout: { kind: 'struct', sizeName: 'ALT_STRUCT_SIZE' },
};
