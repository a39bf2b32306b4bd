import { isSpecialStaticSection } from '../symbol-names.js';
import { ALT_INSTRUCTIONS } from './alt-instructions.js';
import { BUG_TABLE } from './bug-table.js';
import { EX_TABLE } from './ex-table.js';
import { JUMP_TABLE } from './jump-table.js';
import { MODINFO } from './modinfo.js';
import { ORC_UNWIND_IP } from './orc.js';
import { PARA_INSTRUCTIONS } from './para-instructions.js';
import { PRINTK_INDEX } from './printk-index.js';
import { SITE_LISTS } from './site-lists.js';
import { STATIC_CALL_SITES } from './static-call-sites.js';
import type { SpecialTable } from './types.js';

/** Every special section of x86_64 the diff filters entry by entry. */
export const SPECIAL_TABLES: readonly SpecialTable[] = [
  BUG_TABLE,
  EX_TABLE,
  JUMP_TABLE,
  ALT_INSTRUCTIONS,
  PARA_INSTRUCTIONS,
  STATIC_CALL_SITES,
  ORC_UNWIND_IP,
  PRINTK_INDEX,
  MODINFO,
  ...SITE_LISTS,
];

function nameMatches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

export function specialTableFor(name: string): SpecialTable | undefined {
  return SPECIAL_TABLES.find((t) => nameMatches(t.name, name));
}

/** Sections that are only ever included on demand: filtered tables and the code/data they point into. */
const NOT_COMPARED = [
  '.orc_unwind',
  '.altinstr_replacement',
  '.altinstr_aux',
  '.fixup',
  '.comment',
  '.note.*',
  '.debug_*',
  '.BTF*',
  '__ksymtab*',
  '___ksymtab*',
  '.export_symbol',
  '.eh_frame',
  '.llvm_addrsig',
];

/**
 * True for sections whose differences say nothing about what changed: their entries follow the code
 * they describe, which is compared on its own.
 */
export function isNotCompared(name: string): boolean {
  return (
    specialTableFor(name) !== undefined ||
    isSpecialStaticSection(name) ||
    NOT_COMPARED.some((p) => nameMatches(p, name))
  );
}
