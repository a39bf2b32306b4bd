import type { SpecialTable } from './types.js';

/** Paravirt patch sites (CONFIG_PARAVIRT). */
export const PARA_INSTRUCTIONS: SpecialTable = {
  name: '.parainstructions',
  layout: { kind: 'struct', sizeName: 'PARA_STRUCT_SIZE' },
};
