import { relocationTypeInfo, STT_FUNC, STT_OBJECT, STT_SECTION } from '../elf/index.js';
import type { DiffObject, DiffSection, DiffSymbol } from './model.js';
import { isTextSection } from './symbol-names.js';
import { SymbolRanges } from './symbol-ranges.js';

/**
 * The assembler turns references to local functions and variables into "section symbol + offset".
 * Rewrite them to the real symbol + addend, so that comparison sees `counter` rather than `.bss.counter`
 * and inclusion can tell an unchanged variable (referenced) from a new one (copied).
 */
export function replaceSectionSymbols(object: DiffObject): void {
  const namedBySection = new Map<DiffSection, DiffSymbol[]>();
  const ranges = new Map<DiffSection, SymbolRanges>();
  for (const s of object.symbols) {
    if (!s.section || (s.symbol.type !== STT_FUNC && s.symbol.type !== STT_OBJECT)) continue;
    const list = namedBySection.get(s.section);
    if (list) list.push(s);
    else namedBySection.set(s.section, [s]);
  }
  const machine = object.elf.header.machine;
  for (const relocating of object.sections) {
    const inText = isTextSection(relocating.section);
    for (const relocation of relocating.relocations) {
      const symbol = relocation.symbol;
      if (symbol?.type !== STT_SECTION || !symbol.section) continue;
      const target = object.sectionOf.get(symbol.section);
      if (!target) continue;
      if (target.bundled) {
        relocation.symbol = target.bundled.symbol;
        relocation.addend -= target.bundled.symbol.value; // 0 unless prefix padding precedes it
        continue;
      }
      const candidates = namedBySection.get(target);
      if (!candidates) continue;
      let symbolRanges = ranges.get(target);
      if (!symbolRanges) {
        symbolRanges = new SymbolRanges(candidates);
        ranges.set(target, symbolRanges);
      }
      // In code a PC-relative operand is followed by the end of the instruction (usually 4 bytes later):
      // the addend is biased by that, the place it points to is not.
      const pcRelative = relocationTypeInfo(machine, relocation.type)?.pcRelative === true;
      const place = relocation.addend + (inText && pcRelative ? 4n : 0n);
      const containing = symbolRanges.containing(place);
      if (!containing) continue;
      relocation.symbol = containing.symbol;
      relocation.addend -= containing.symbol.value;
    }
  }
}
