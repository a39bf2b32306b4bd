import type { SpecialTable } from './types.js';

/** Lists of code addresses, one relocated word each: kept for the included functions only. */
const perRelocation = (name: string): SpecialTable => ({ name, layout: { kind: 'per-relocation' } });

export const SITE_LISTS: readonly SpecialTable[] = [
  perRelocation('.smp_locks'),
  perRelocation('.retpoline_sites'),
  perRelocation('.return_sites'),
  perRelocation('.call_sites'),
  perRelocation('.ibt_endbr_seal'),
  perRelocation('.cfi_sites'),
  perRelocation('.static_call_tramp_key'),
  // Regenerated for exactly the included functions (ftrace needs their fentry sites).
  perRelocation('__mcount_loc'),
  perRelocation('__patchable_function_entries'),
  // objtool annotations (`.discard.reachable`, `.discard.unreachable`, `.discard.addressable`...).
  perRelocation('.discard.*'),
];
