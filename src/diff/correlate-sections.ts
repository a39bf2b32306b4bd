import { STT_SECTION } from '../elf/index.js';
import type { DiffObject, DiffSection } from './model.js';
import { symbolStem } from './symbol-names.js';

function pair(orig: DiffSection, patched: DiffSection): void {
  orig.twin = patched;
  patched.twin = orig;
}

/** Two sections that each hold one symbol are the same only when those symbols are twins. */
function compatible(o: DiffSection, p: DiffSection): boolean {
  return !o.bundled || !p.bundled || p.bundled.twin === o.bundled || (!p.bundled.twin && !o.bundled.twin);
}

/**
 * Pairs sections. A section that holds one function or object follows its symbol (so `.text.foo.isra.1`
 * pairs with `.text.foo.isra.0`); the others pair by name, in order, then by name without numbers.
 * Run after the symbols are correlated; section symbols are paired last, after their sections.
 */
export function correlateSections(orig: DiffObject, patched: DiffObject): void {
  for (const p of patched.sections) {
    const o = p.bundled?.twin?.section;
    if (o && !o.twin && o.bundled === p.bundled?.twin) pair(o, p);
  }
  // A section whose symbol found no twin may still be the same section (e.g. `.modinfo` holding one
  // string in the original and two in the patched object): pair those by name as well.
  const unpaired = (list: DiffSection[]) => list.filter((s) => !s.twin);
  const origByName = new Map<string, DiffSection[]>();
  for (const o of unpaired(orig.sections)) {
    const list = origByName.get(o.section.name);
    if (list) list.push(o);
    else origByName.set(o.section.name, [o]);
  }
  for (const p of unpaired(patched.sections)) {
    const candidates = origByName.get(p.section.name);
    const at = candidates?.findIndex((o) => compatible(o, p)) ?? -1;
    if (at >= 0) pair(candidates!.splice(at, 1)[0]!, p);
  }
  const origByStem = new Map<string, DiffSection[]>();
  for (const o of unpaired(orig.sections)) {
    const key = symbolStem(o.section.name);
    origByStem.set(key, [...(origByStem.get(key) ?? []), o]);
  }
  const patchedByStem = new Map<string, DiffSection[]>();
  for (const p of unpaired(patched.sections)) {
    const key = symbolStem(p.section.name);
    patchedByStem.set(key, [...(patchedByStem.get(key) ?? []), p]);
  }
  for (const [key, list] of patchedByStem) {
    const origList = origByStem.get(key);
    if (list.length === 1 && origList?.length === 1 && compatible(origList[0]!, list[0]!)) {
      pair(origList[0]!, list[0]!);
    }
  }
}

/** Section symbols follow their sections. */
export function correlateSectionSymbols(orig: DiffObject, patched: DiffObject): void {
  const origSectionSymbol = new Map<DiffSection, (typeof orig.symbols)[number]>();
  for (const s of orig.symbols)
    if (s.symbol.type === STT_SECTION && s.section) origSectionSymbol.set(s.section, s);
  for (const p of patched.symbols) {
    if (p.symbol.type !== STT_SECTION || !p.section?.twin) continue;
    const o = origSectionSymbol.get(p.section.twin);
    if (o && !o.twin) {
      o.twin = p;
      p.twin = o;
    }
  }
}
