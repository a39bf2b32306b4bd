import type { Relocation } from '../../elf/index.js';
import type { DiffSection } from '../model.js';

/** One entry of a special section: [offset, offset + size) with its relocations. */
export interface Entry {
  offset: number;
  size: number;
  relocations: Relocation[];
  /** Bytes the entry lacks at the end of the section (no tail padding after the last record). */
  missing?: number;
}

export type Delimited = { entries: Entry[] } | { problem: string };

function isZero(data: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (data[i] !== 0) return false;
  return true;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/**
 * Cuts a table of `size`-byte records the way the kernel reads it. The records start at multiples of
 * `size`; every record of these tables starts with a relocated code address, so the relocations prove
 * the cut. A section that is not a whole number of records is still delimited when its tail is either
 * alignment padding (zeros, no relocation) or the last record without its own tail padding (assemblers
 * emit `.balign` before a record, not after). Anything else cannot be delimited: the problem names the
 * offsets.
 */
export function delimitStructEntries(section: DiffSection, size: number): Delimited {
  const total = section.section.size;
  const whole = Math.floor(total / size);
  const rest = total - whole * size;
  const entries: Entry[] = [];
  for (let offset = 0; offset < whole * size; offset += size) entries.push({ offset, size, relocations: [] });
  if (rest > 0) {
    const tailRelocated = section.relocations.some((r) => Number(r.offset) >= whole * size);
    if (tailRelocated)
      entries.push({ offset: whole * size, size: rest, relocations: [], missing: size - rest });
    else if (!isZero(section.section.data, whole * size, total)) {
      return {
        problem: `${hex(whole * size)}..${hex(total)} is neither a ${size}-byte record nor zero padding`,
      };
    }
  }
  for (const r of section.relocations) entries[Math.floor(Number(r.offset) / size)]?.relocations.push(r);
  const unanchored = entries.filter(
    (e) => e.relocations.length > 0 && !e.relocations.some((r) => Number(r.offset) === e.offset),
  );
  if (unanchored.length > 0) {
    const offsets = unanchored.slice(0, 4).map((e) => hex(e.offset));
    return {
      problem: `no relocation starts the ${size}-byte record at ${offsets.join(', ')}${unanchored.length > 4 ? ', ...' : ''}`,
    };
  }
  return { entries };
}
