import { STT_FUNC, STT_OBJECT } from '../elf/index.js';
import type { ObjectSymbol, ObjectSymbols } from '../symbols/resolve-sympos.js';
import type { DiffObject } from './model.js';

/**
 * Addresses in the parent of the object's own functions and objects whose names are unique there.
 * A linker keeps one object's code together, so these mark where the object landed.
 */
export function objectAnchors(object: DiffObject, table: ObjectSymbols): bigint[] {
  const anchors: bigint[] = [];
  for (const s of object.symbols) {
    if (!s.section || s.specialStatic) continue;
    if (s.symbol.type !== STT_FUNC && s.symbol.type !== STT_OBJECT) continue;
    const found = table.candidates(s.symbol.name);
    const address = found.length === 1 ? found[0]?.address : undefined;
    if (address !== undefined) anchors.push(address);
  }
  return anchors;
}

function distance(a: bigint, b: bigint): bigint {
  return a > b ? a - b : b - a;
}

/**
 * For a static symbol with several same-named copies in the parent and no source-file information
 * (kallsyms has none), the copy nearest to the object's own symbols is the object's: the 1-based
 * position of that candidate, or undefined when there is nothing to measure or two are equally near.
 */
export function nearestCandidate(
  candidates: readonly ObjectSymbol[],
  anchors: readonly bigint[],
): number | undefined {
  if (anchors.length === 0) return undefined;
  const nearest = candidates.map((c) => {
    const at = c.address;
    if (at === undefined) return undefined;
    let closest = distance(anchors[0]!, at);
    for (const a of anchors) if (distance(a, at) < closest) closest = distance(a, at);
    return closest;
  });
  let best = -1;
  let tie = false;
  nearest.forEach((d, i) => {
    if (d === undefined) return;
    const current = best < 0 ? undefined : nearest[best];
    if (current === undefined || d < current) {
      best = i;
      tie = false;
    } else if (d === current) tie = true;
  });
  return best < 0 || tie ? undefined : best + 1;
}
