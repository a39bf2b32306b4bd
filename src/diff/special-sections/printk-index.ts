import type { SpecialTable } from './types.js';

/** printk format index (CONFIG_PRINTK_INDEX): entries point at per-call-site `struct pi_entry`. */
export const PRINTK_INDEX: SpecialTable = {
  name: '.printk_index',
  layout: { kind: 'struct', sizeName: 'PRINTK_INDEX_STRUCT_SIZE', fallback: 8 },
};
