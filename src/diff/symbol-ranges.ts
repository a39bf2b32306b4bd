import type { Relocation } from '../elf/index.js';
import type { DiffSection, DiffSymbol } from './model.js';

/** Index of the first element of `sorted` whose key is >= `value`. */
function lowerBound<T>(sorted: readonly T[], value: bigint, key: (item: T) => bigint): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (key(sorted[mid]!) < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Finds the symbol covering an offset of a section holding many (a whole `.text` without
 * -ffunction-sections, or vmlinux.o): sorted once, then binary search, so big objects stay linear.
 */
export class SymbolRanges {
  private readonly sorted: DiffSymbol[];

  constructor(symbols: readonly DiffSymbol[]) {
    this.sorted = [...symbols].sort((a, b) =>
      a.symbol.value < b.symbol.value ? -1 : a.symbol.value > b.symbol.value ? 1 : 0,
    );
  }

  /** The symbol whose [value, value + size) holds `place` (size 0 counts as 1 byte). */
  containing(place: bigint): DiffSymbol | undefined {
    const after = lowerBound(this.sorted, place + 1n, (s) => s.symbol.value);
    for (let i = after - 1; i >= 0 && i >= after - 4; i--) {
      const s = this.sorted[i]!;
      const end = s.symbol.value + (s.symbol.size === 0n ? 1n : s.symbol.size);
      if (place >= s.symbol.value && place < end) return s;
    }
    return undefined;
  }
}

const sortedRelocations = new WeakMap<DiffSection, Relocation[]>();

/** The relocations of `section` at offsets [start, end), found by binary search. */
export function relocationsBetween(section: DiffSection, start: bigint, end: bigint): Relocation[] {
  let sorted = sortedRelocations.get(section);
  if (!sorted) {
    sorted = [...section.relocations].sort((a, b) =>
      a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0,
    );
    sortedRelocations.set(section, sorted);
  }
  const from = lowerBound(sorted, start, (r) => r.offset);
  const to = lowerBound(sorted, end, (r) => r.offset);
  return sorted.slice(from, to);
}
