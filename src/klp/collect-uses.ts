/** Pass: every use (relocation) of each undefined symbol of the module. */
import type { ElfFile, ElfSymbol } from '../elf/index.js';
import { SHF_ALLOC, SHN_UNDEF, SHT_REL, SHT_RELA, STT_SECTION } from '../elf/index.js';
import type { SymbolUses } from './convert-types.js';
import { SHF_RELA_LIVEPATCH } from './klp-names.js';

/** A named symbol the module does not define (not a section symbol). */
export function isUndefined(symbol: ElfSymbol): boolean {
  return (
    !symbol.section && symbol.specialIndex === SHN_UNDEF && symbol.name !== '' && symbol.type !== STT_SECTION
  );
}

export /** Every relocation against an undefined symbol, per symbol. Livepatch relocation sections are skipped. */
function collectUses(elf: ElfFile): Map<ElfSymbol, SymbolUses> {
  const uses = new Map<ElfSymbol, SymbolUses>();
  for (const section of elf.sections) {
    if (section.type !== SHT_RELA && section.type !== SHT_REL) continue;
    if (section.flags & SHF_RELA_LIVEPATCH) continue;
    const target = section.info;
    if (typeof target === 'number') continue;
    const alloc = (target.flags & SHF_ALLOC) !== 0;
    for (const relocation of section.relocations ?? []) {
      const symbol = relocation.symbol;
      if (!symbol || !isUndefined(symbol)) continue;
      let entry = uses.get(symbol);
      if (!entry) {
        entry = { alloc: [], other: 0 };
        uses.set(symbol, entry);
      }
      if (alloc) entry.alloc.push({ relocationSection: section, target, relocation });
      else entry.other++;
    }
  }
  return uses;
}
