import type { Relocation } from '../../elf/index.js';
import { relocationTypeInfo } from '../../elf/index.js';
import type { DiffObject, DiffSection } from '../model.js';
import type { Refusal } from '../refusals.js';
import type { StructSizes } from '../struct-sizes.js';
import { specialTableFor } from './index.js';
import type { Entry } from './struct-entries.js';
import { delimitStructEntries } from './struct-entries.js';
import type { FilteredSection, SpecialTable, SpecialTableContext } from './types.js';
import { pointsToIncludedCode } from './types.js';

export interface SpecialSectionsResult {
  filtered: FilteredSection[];
  refusals: Refusal[];
}

function structEntries(section: DiffSection, size: number): Entry[] {
  const entries: Entry[] = [];
  for (let offset = 0; offset < section.section.size; offset += size) {
    entries.push({ offset, size, relocations: [] });
  }
  for (const r of section.relocations) entries[Math.floor(Number(r.offset) / size)]?.relocations.push(r);
  return entries;
}

function perRelocationEntries(object: DiffObject, section: DiffSection): Entry[] | undefined {
  const machine = object.elf.header.machine;
  const sorted = [...section.relocations].sort((a, b) => Number(a.offset - b.offset));
  const entries: Entry[] = [];
  for (const r of sorted) {
    const width = relocationTypeInfo(machine, r.type)?.width ?? 0;
    if (width === 0) return undefined;
    entries.push({ offset: Number(r.offset), size: width, relocations: [r] });
  }
  return entries;
}

function stringEntries(section: DiffSection): Entry[] {
  const entries: Entry[] = [];
  const data = section.section.data;
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== 0) continue;
    if (i > start) entries.push({ offset: start, size: i - start + 1, relocations: [] });
    start = i + 1;
  }
  return entries;
}

/** Concatenates the kept entries; relocations move with their entry. */
function assemble(source: DiffSection, kept: readonly Entry[]): FilteredSection {
  const parts: Buffer[] = [];
  const relocations: Relocation[] = [];
  let at = 0;
  for (const entry of kept) {
    parts.push(source.section.data.subarray(entry.offset, entry.offset + entry.size));
    // A last record without tail padding is completed, so the records after it stay in step.
    if (entry.missing) parts.push(Buffer.alloc(entry.missing));
    for (const r of entry.relocations)
      relocations.push({ ...r, offset: r.offset - BigInt(entry.offset) + BigInt(at) });
    at += entry.size + (entry.missing ?? 0);
  }
  return { source, data: Buffer.concat(parts), relocations };
}

function structSize(table: SpecialTable, section: DiffSection, sizes: StructSizes): number | undefined {
  if (table.layout.kind !== 'struct') return undefined;
  const size = sizes[table.layout.sizeName] ?? table.layout.fallback;
  if (size !== undefined) return size;
  const entsize = section.section.entsize;
  return entsize > 1 && section.section.size % entsize === 0 ? entsize : undefined;
}

/**
 * Cuts every special section of the patched object down to the entries describing included functions
 * (and the `import_ns=` lines of .modinfo). Call after the functions are chosen; the relocations of the
 * kept entries still have to be followed for inclusion.
 */
export function filterSpecialSections(
  patched: DiffObject,
  sizes: StructSizes,
  context: SpecialTableContext,
): SpecialSectionsResult {
  const filtered: FilteredSection[] = [];
  const refusals: Refusal[] = [];
  const byName = new Map(patched.sections.map((s) => [s.section.name, s]));
  for (const section of patched.sections) {
    const table = specialTableFor(section.section.name);
    if (!table || section.section.size === 0) continue;
    let entries: Entry[] | undefined;
    if (table.layout.kind === 'strings') entries = stringEntries(section);
    else if (table.layout.kind === 'per-relocation') entries = perRelocationEntries(patched, section);
    else {
      const size = structSize(table, section, sizes);
      const needed = section.relocations.some((r) => pointsToIncludedCode(patched, r));
      const delimited = size === undefined ? undefined : delimitStructEntries(section, size);
      if (!delimited || 'problem' in delimited) {
        if (!needed) continue;
        const sizeName = table.layout.sizeName;
        refusals.push({
          kind: 'struct-size-unknown',
          object: patched.path,
          where: section.section.name,
          message: delimited
            ? `${section.section.name} (${section.section.size} bytes) cannot be cut into ${size}-byte entries: ${delimited.problem}`
            : `the entry size of ${section.section.name} is not known`,
          hint: `give the target kernel's size with ${sizeName}=N in the environment or --struct-size ${sizeName}=N`,
        });
        continue;
      }
      entries = delimited.entries;
    }
    if (!entries) continue;
    const layout = table.layout;
    const kept = entries.filter((e) =>
      layout.kind === 'strings'
        ? layout.keep(section.section.data.toString('latin1', e.offset, e.offset + e.size - 1))
        : e.relocations.some((r) => pointsToIncludedCode(patched, r)),
    );
    for (const entry of kept) {
      const refusal = table.check?.(
        { object: patched, offset: entry.offset, relocations: entry.relocations },
        context,
      );
      if (refusal) refusals.push(refusal);
    }
    if (kept.length === 0) continue;
    filtered.push(assemble(section, kept));
    const companion = table.companion ? byName.get(table.companion.name) : undefined;
    if (companion && table.companion) {
      const size = sizes[table.companion.sizeName] ?? table.companion.fallback;
      const companionEntries = structEntries(companion, size);
      const matching = kept.flatMap((e) => companionEntries[e.offset / e.size] ?? []);
      filtered.push(assemble(companion, matching));
    }
  }
  return { filtered, refusals };
}
