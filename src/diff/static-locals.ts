import { STT_FUNC } from '../elf/index.js';
import type { DiffObject, DiffSymbol } from './model.js';
import type { Refusal } from './refusals.js';
import { isStaticLocal, symbolStem } from './symbol-names.js';
import { relocationsBetween } from './symbol-ranges.js';

/** Function-scope statics (not the special ones) that a function's code refers to. */
function staticLocalsUsedBy(object: DiffObject, fn: DiffSymbol): DiffSymbol[] {
  const found: DiffSymbol[] = [];
  const section = fn.section;
  if (!section) return found;
  const start = fn.symbol.value; // after any prefix padding
  const end = section.bundled === fn ? BigInt(section.section.size) : fn.symbol.value + fn.symbol.size;
  for (const relocation of relocationsBetween(section, start, end)) {
    const target = relocation.symbol ? object.symbolOf.get(relocation.symbol) : undefined;
    if (target && !target.specialStatic && isStaticLocal(target.symbol) && !found.includes(target)) {
      found.push(target);
    }
  }
  return found;
}

/** Functions and their `.cold`/`.part` pieces, which share the parent's statics. */
function withChildren(fn: DiffSymbol): DiffSymbol[] {
  return [fn, ...fn.children];
}

/**
 * Statics no paired function uses (referenced from data only, or in a big `ld -r` object) pair by exact
 * name, in order, when both objects have the same number of them: the numbering did not move.
 */
function pairUnusedByName(orig: DiffObject, patched: DiffObject): void {
  const unpaired = (object: DiffObject) => {
    const byName = new Map<string, DiffSymbol[]>();
    for (const s of object.symbols) {
      if (s.twin || s.specialStatic || !isStaticLocal(s.symbol)) continue;
      byName.set(s.symbol.name, [...(byName.get(s.symbol.name) ?? []), s]);
    }
    return byName;
  };
  const origByName = unpaired(orig);
  for (const [name, list] of unpaired(patched)) {
    const origList = origByName.get(name);
    if (origList?.length !== list.length) continue;
    list.forEach((p, i) => {
      const o = origList[i]!;
      o.twin = p;
      p.twin = o;
    });
  }
}

/**
 * Statics declared inside functions get numbered names (`count.3`) that change whenever any static of
 * the file is added or removed, and two functions may each have a `count`. They are paired through the
 * functions that use them: `count.N` used by patched `f` is the `count.M` used by the original `f`.
 * Returns refusals for originals whose function no longer uses them: their state would be lost.
 */
export function correlateStaticLocals(orig: DiffObject, patched: DiffObject): Refusal[] {
  for (const patchedFn of patched.symbols) {
    if (patchedFn.symbol.type !== STT_FUNC || !patchedFn.twin) continue;
    const origUses = withChildren(patchedFn.twin).flatMap((f) => staticLocalsUsedBy(orig, f));
    for (const p of withChildren(patchedFn).flatMap((f) => staticLocalsUsedBy(patched, f))) {
      if (p.twin) continue;
      const stem = symbolStem(p.symbol.name);
      const o = origUses.find((u) => !u.twin && symbolStem(u.symbol.name) === stem);
      if (o) {
        o.twin = p;
        p.twin = o;
      }
    }
  }

  pairUnusedByName(orig, patched);

  const refusals: Refusal[] = [];
  for (const origFn of orig.symbols) {
    if (origFn.symbol.type !== STT_FUNC || !origFn.twin) continue;
    for (const o of staticLocalsUsedBy(orig, origFn)) {
      if (o.twin) continue;
      refusals.push({
        kind: 'static-local-removed',
        object: patched.path,
        where: `${origFn.symbol.name}: ${o.symbol.name}`,
        message: `the patched ${origFn.symbol.name}() no longer uses its static local variable ${symbolStem(o.symbol.name)} (${o.symbol.name})`,
        hint: 'a livepatch cannot take over or drop the running state of a static local; keep the variable referenced, or move the state into a shadow variable',
      });
    }
  }
  return refusals;
}
