import type { SpecialTable } from './types.js';

/** Exception table: faulting instruction, fixup (in the function or in `.fixup`) and data. */
export const EX_TABLE: SpecialTable = {
  name: '__ex_table',
  layout: { kind: 'struct', sizeName: 'EX_STRUCT_SIZE' },
};
