import type { SpecialTable } from './types.js';

/** BUG()/WARN() sites: address of the ud2, file, line and flags (size depends on DEBUG_BUGVERBOSE). */
export const BUG_TABLE: SpecialTable = {
  name: '__bug_table',
  layout: { kind: 'struct', sizeName: 'BUG_STRUCT_SIZE' },
};
