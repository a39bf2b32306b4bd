import type { Relocation } from '../../elf/index.js';
import { STT_SECTION } from '../../elf/index.js';
import type { DiffObject, DiffSection, DiffSymbol } from '../model.js';
import { isSpecialStaticSection } from '../symbol-names.js';
import { relocationsBetween } from '../symbol-ranges.js';
import type { FilteredSection } from './types.js';

function alignUp(value: number, alignment: number): number {
  return alignment > 1 ? Math.ceil(value / alignment) * alignment : value;
}

/** The copied statics of one section, in section order, each with its byte range. */
function copiedStatics(object: DiffObject, section: DiffSection): DiffSymbol[] {
  return object.symbols
    .filter((s) => s.section === section && s.include && s.symbol.type !== STT_SECTION)
    .sort((a, b) => Number(a.symbol.value - b.symbol.value));
}

/**
 * Cuts a section of per-site statics (`__dyndbg` descriptors, `.data.once` flags, ...) down to the statics
 * the livepatch copies. The module loader reads `__dyndbg` as an array of `struct _ddebug`, so the kept
 * objects are laid end to end (each at the section's alignment) and their symbols move with them.
 */
function cutToCopiedStatics(object: DiffObject, section: DiffSection): FilteredSection | undefined {
  const kept = copiedStatics(object, section);
  if (kept.length === 0) return undefined;
  const parts: Buffer[] = [];
  const relocations: Relocation[] = [];
  const symbolValues = new Map<DiffSymbol, bigint>();
  const data = section.section.data;
  let at = 0;
  let lastEnd = -1n;
  for (const s of kept) {
    const start = s.symbol.value;
    const end = start + s.symbol.size;
    // Aliases and overlapping symbols (a label inside an object) keep their place in the copied bytes.
    if (start < lastEnd) {
      const owner = [...symbolValues].find(
        ([o]) => o.symbol.value <= start && start < o.symbol.value + o.symbol.size,
      );
      if (owner) symbolValues.set(s, owner[1] + (start - owner[0].symbol.value));
      continue;
    }
    const padded = alignUp(at, Number(section.section.addralign));
    if (padded > at) parts.push(Buffer.alloc(padded - at));
    at = padded;
    if (data.length > 0) parts.push(data.subarray(Number(start), Number(end)));
    for (const r of relocationsBetween(section, start, end === start ? start + 1n : end)) {
      relocations.push({ ...r, offset: r.offset - start + BigInt(at) });
    }
    symbolValues.set(s, BigInt(at));
    at += Number(end - start);
    lastEnd = end;
  }
  return { source: section, data: Buffer.concat(parts), relocations, symbolValues, size: at };
}

/** The sections of per-site statics cut to what the livepatch copies (whole sections are left alone). */
export function cutPerSymbolSections(object: DiffObject): FilteredSection[] {
  const cut: FilteredSection[] = [];
  for (const section of object.sections) {
    if (section.include || section.bundled || !isSpecialStaticSection(section.section.name)) continue;
    const filtered = cutToCopiedStatics(object, section);
    if (filtered) cut.push(filtered);
  }
  return cut;
}
