import { STT_FILE, STT_SECTION } from '../elf/index.js';
import type { DiffObject, DiffSymbol } from './model.js';
import { symbolStem } from './symbol-names.js';

function pair(orig: DiffSymbol, patched: DiffSymbol): void {
  orig.twin = patched;
  patched.twin = orig;
}

/** Symbols matched by name here: not section/file symbols, not statics matched through their users. */
function matchable(s: DiffSymbol): boolean {
  const { type } = s.symbol;
  if (type === STT_SECTION || type === STT_FILE || s.specialStatic) return false;
  if (s.symbol.name === '') return false;
  return !s.staticLocal;
}

function kindOf(s: DiffSymbol): string {
  return `${s.symbol.type}:${s.section ? 'defined' : 'undefined'}`;
}

function byKey(symbols: readonly DiffSymbol[], key: (s: DiffSymbol) => string): Map<string, DiffSymbol[]> {
  const map = new Map<string, DiffSymbol[]>();
  for (const s of symbols) {
    const k = key(s);
    const list = map.get(k);
    if (list) list.push(s);
    else map.set(k, [s]);
  }
  return map;
}

/**
 * Pairs each symbol of the patched object with its original: first by exact name, then by the name
 * without compiler-made numbers (`foo.isra.1` ↔ `foo.isra.0`) where that is unambiguous on both sides.
 * Function-scope statics are left to correlateStaticLocals; special statics are never paired.
 */
export function correlateSymbols(orig: DiffObject, patched: DiffObject): void {
  const origCandidates = orig.symbols.filter(matchable);
  const patchedCandidates = patched.symbols.filter(matchable);

  const exact = byKey(origCandidates, (s) => `${kindOf(s)}:${s.symbol.name}`);
  for (const p of patchedCandidates) {
    const list = exact.get(`${kindOf(p)}:${p.symbol.name}`);
    const o = list?.shift();
    if (o) pair(o, p);
  }

  const stemKey = (s: DiffSymbol) => `${kindOf(s)}:${symbolStem(s.symbol.name)}`;
  const origByStem = byKey(
    origCandidates.filter((s) => !s.twin),
    stemKey,
  );
  const patchedByStem = byKey(
    patchedCandidates.filter((s) => !s.twin),
    stemKey,
  );
  for (const [key, patchedList] of patchedByStem) {
    const origList = origByStem.get(key);
    if (patchedList.length === 1 && origList?.length === 1) pair(origList[0]!, patchedList[0]!);
  }
}
