/**
 * A function in a section it shares with others (`__sched` code in .sched.text, which -ffunction-sections
 * does not split) is compared on its own: its bytes and relocations, relative to its start. gcc may lay
 * out the section's functions in another order after an unrelated change (a header inline changing a
 * sibling), which changes the section but not the function. A call or jump the assembler resolved
 * without a relocation (to a local function of the same section) must still reach the same function.
 */
import type { Relocation } from '../elf/index.js';
import { STT_FUNC } from '../elf/index.js';
import { sameRelocation } from './compare-sections.js';
import { onlyLineNumbersDiffer } from './line-number-changes.js';
import type { DiffObject, DiffSection, DiffSymbol } from './model.js';
import { relocationsBetween, SymbolRanges } from './symbol-ranges.js';

const CALL = 0xe8;
const JMP = 0xe9;

function bytesOf(s: DiffSymbol): Buffer {
  const start = Number(s.symbol.value);
  return s.section!.section.data.subarray(start, start + Number(s.symbol.size));
}

const shifted = (relocations: Relocation[], start: bigint) =>
  relocations.map((r) => ({ ...r, offset: r.offset - start }));

/** The function (by its twin) a relocation-less rel32 call/jump at `at` reaches, or a marker. */
function localTarget(
  object: DiffObject,
  ranges: SymbolRanges,
  fn: DiffSymbol,
  code: Buffer,
  at: number,
): string {
  const target = fn.symbol.value + BigInt(at + 5 + code.readInt32LE(at + 1));
  const end = fn.symbol.value + fn.symbol.size;
  if (target >= fn.symbol.value && target < end) return `self+${target - fn.symbol.value}`;
  const reached = ranges.containing(target);
  return reached ? `${reached.symbol.name}+${target - reached.symbol.value}` : `?${object.path}`;
}

/** Whether `p` (in a shared section) differs from its twin `o` in meaning. */
export function sharedFunctionDiffers(
  orig: DiffObject,
  o: DiffSymbol,
  patched: DiffObject,
  p: DiffSymbol,
): boolean {
  if (!o.section || !p.section || o.symbol.size !== p.symbol.size || p.symbol.size === 0n) return true;
  const a = bytesOf(o);
  const b = bytesOf(p);
  const oStart = o.symbol.value;
  const pStart = p.symbol.value;
  const oRel = shifted(relocationsBetween(o.section, oStart, oStart + o.symbol.size), oStart);
  const pRel = shifted(relocationsBetween(p.section, pStart, pStart + p.symbol.size), pStart);
  if (oRel.length !== pRel.length) return true;
  for (let i = 0; i < pRel.length; i++) {
    if (!sameRelocation(orig, oRel[i]!, patched, pRel[i]!, true)) return true;
  }
  const covered = new Set(pRel.flatMap((r) => [0, 1, 2, 3].map((k) => Number(r.offset) + k)));
  const inSection = (object: DiffObject, s: DiffSymbol) =>
    new SymbolRanges(object.symbols.filter((x) => x.section === s.section && x.symbol.type === STT_FUNC));
  const oRanges = inSection(orig, o);
  const pRanges = inSection(patched, p);
  // A local call's displacement follows the layout: equal when it reaches the same function.
  const masked = Buffer.from(b);
  for (let at = 0; at + 5 <= b.length; at++) {
    if ((b[at] !== CALL && b[at] !== JMP) || a[at] !== b[at] || covered.has(at + 1)) continue;
    if (a.readInt32LE(at + 1) === b.readInt32LE(at + 1)) continue;
    if (localTarget(orig, oRanges, o, a, at) === localTarget(patched, pRanges, p, b, at))
      a.copy(masked, at + 1, at + 1, at + 5);
  }
  return !masked.equals(a) && !onlyLineNumbersDiffer(a, masked, pRel, patched);
}

/** Alignment padding between functions: never more than a 16-byte boundary's worth. */
const MAX_GAP = 16n;

/**
 * A changed text section holding several functions, each compared alone and found the same, with nothing
 * but alignment padding between them: the change is their layout, not their code.
 */
export function onlyLayoutChanged(patched: DiffObject, section: DiffSection): boolean {
  const functions = patched.symbols
    .filter((s) => s.section === section && s.symbol.type === STT_FUNC)
    .sort((x, y) => (x.symbol.value < y.symbol.value ? -1 : 1));
  if (functions.length === 0 || functions.some((f) => f.status !== 'same')) return false;
  let end = 0n;
  for (const f of functions) {
    if (f.symbol.value - end >= MAX_GAP) return false;
    end = f.symbol.value + f.symbol.size;
  }
  return BigInt(section.section.size) - end < MAX_GAP;
}
