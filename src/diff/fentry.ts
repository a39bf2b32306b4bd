import type { DiffObject, DiffSymbol } from './model.js';
import { relocationsBetween } from './symbol-ranges.js';

/** How far into a function ftrace's `call __fentry__` may be (after an endbr64 or padding). */
const FENTRY_WINDOW = 16n;

/** Whether ftrace can redirect the function: it calls __fentry__ (or __mcount) at its start. */
export function callsFentry(object: DiffObject, fn: DiffSymbol): boolean {
  const section = fn.section;
  if (!section) return false;
  const start = fn.symbol.value; // after any prefix padding
  return relocationsBetween(section, start, start + FENTRY_WINDOW).some((r) => {
    const name = r.symbol ? object.symbolOf.get(r.symbol)?.symbol.name : undefined;
    return name === '__fentry__' || name === '__mcount';
  });
}
