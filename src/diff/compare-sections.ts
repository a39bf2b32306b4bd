import type { Relocation } from '../elf/index.js';
import {
  relocationTypeInfo,
  SHF_GROUP,
  SHF_STRINGS,
  SHT_NOBITS,
  STT_SECTION,
  stringAt,
} from '../elf/index.js';
import { onlyLineNumbersDiffer } from './line-number-changes.js';
import type { DiffObject, DiffSection } from './model.js';
import { isNotCompared } from './special-sections/index.js';
import { isTextSection, staticVariableStem } from './symbol-names.js';

/** The string a relocation into a string-literal section points at, or undefined. */
function referencedString(object: DiffObject, relocation: Relocation, fromText: boolean): string | undefined {
  const section = relocation.symbol?.type === STT_SECTION ? relocation.symbol.section : undefined;
  if (!section || (section.flags & SHF_STRINGS) === 0) return undefined;
  const pcRelative = relocationTypeInfo(object.elf.header.machine, relocation.type)?.pcRelative === true;
  const at = Number(relocation.addend + (fromText && pcRelative ? 4n : 0n));
  return at >= 0 && at < section.data.length ? stringAt(section.data, at) : undefined;
}

/** Whether two relocations mean the same thing: same place, type, target (by identity) and addend. */
export function sameRelocation(
  orig: DiffObject,
  o: Relocation,
  patched: DiffObject,
  p: Relocation,
  fromText: boolean,
): boolean {
  if (o.offset !== p.offset || o.type !== p.type) return false;
  const os = o.symbol ? orig.symbolOf.get(o.symbol) : undefined;
  const ps = p.symbol ? patched.symbolOf.get(p.symbol) : undefined;
  if (!os || !ps) return os === ps && o.addend === p.addend;
  const oString = referencedString(orig, o, fromText);
  const pString = referencedString(patched, p, fromText);
  if (oString !== undefined || pString !== undefined) return oString === pString;
  if (o.addend !== p.addend) return false;
  if (ps.twin === os) return true;
  // Per-site statics are copied, never matched: the same kind of static (by name without numbers: the
  // counter in __UNIQUE_ID_ddebug449 moves when a pr_debug is added above) is the same reference.
  if (ps.specialStatic && os.specialStatic)
    return staticVariableStem(ps.symbol.name) === staticVariableStem(os.symbol.name);
  if (ps.symbol.type === STT_SECTION && os.symbol.type === STT_SECTION) {
    return ps.section !== undefined && ps.section.twin === os.section;
  }
  return false;
}

/** Why two paired sections differ in meaning, or undefined when they do not. */
export function sectionDifference(
  orig: DiffObject,
  o: DiffSection,
  patched: DiffObject,
  p: DiffSection,
): string | undefined {
  const a = o.section;
  const b = p.section;
  if (a.type !== b.type) return 'section type changed';
  if ((a.flags & ~SHF_GROUP) !== (b.flags & ~SHF_GROUP)) return 'section flags changed';
  if (a.size !== b.size) return `size changed from ${a.size} to ${b.size} bytes`;
  if (o.relocations.length !== p.relocations.length) {
    return `number of relocations changed from ${o.relocations.length} to ${p.relocations.length}`;
  }
  const fromText = isTextSection(b);
  for (let i = 0; i < p.relocations.length; i++) {
    if (!sameRelocation(orig, o.relocations[i]!, patched, p.relocations[i]!, fromText)) {
      return `relocation at offset 0x${p.relocations[i]!.offset.toString(16)} changed`;
    }
  }
  if (b.type === SHT_NOBITS || a.data.equals(b.data)) return undefined;
  if (fromText && onlyLineNumbersDiffer(a.data, b.data, p.relocations, patched)) return undefined;
  return 'contents changed';
}

/** Sets the status of every section of the patched object: new, changed or same. */
export function compareSections(orig: DiffObject, patched: DiffObject): void {
  for (const p of patched.sections) {
    if (!p.twin) {
      p.status = 'new';
      continue;
    }
    if (isNotCompared(p.section.name)) continue;
    p.difference = sectionDifference(orig, p.twin, patched, p);
    p.status = p.difference ? 'changed' : 'same';
    p.twin.status = p.status;
  }
}
