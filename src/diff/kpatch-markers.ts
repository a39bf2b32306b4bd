import { readSectionString, STT_FUNC } from '../elf/index.js';
import type { DiffObject, DiffSymbol } from './model.js';

/** Section holding KPATCH_IGNORE_FUNCTION(fn) records: a pointer to each function. */
export const IGNORE_FUNCTIONS_SECTION = '.kpatch.ignore.functions';
/** Section holding KPATCH_IGNORE_SECTION("name") records: a pointer to each section name. */
export const IGNORE_SECTIONS_SECTION = '.kpatch.ignore.sections';

function recordTargets(object: DiffObject, sectionName: string) {
  const records = object.sections.find((s) => s.section.name === sectionName);
  return (records?.relocations ?? []).map((r) => ({
    target: r.symbol ? object.symbolOf.get(r.symbol) : undefined,
    addend: r.addend,
  }));
}

/** The function a record points at: the symbol itself, or the function at that offset of its section. */
function pointedFunction(object: DiffObject, target: DiffSymbol, addend: bigint): DiffSymbol | undefined {
  if (target.symbol.type === STT_FUNC) return target;
  return object.symbols.find(
    (s) => s.section === target.section && s.symbol.type === STT_FUNC && s.symbol.value === addend,
  );
}

function markSame(s: DiffSymbol): void {
  s.status = 'same';
  if (s.twin) s.twin.status = 'same';
}

/**
 * Honours kpatch's markers (include/kpatch-macros.h) in the patched object: changes inside a function
 * named by KPATCH_IGNORE_FUNCTION, or inside sections named by KPATCH_IGNORE_SECTION, are treated as no
 * change. The patch author takes responsibility that the running code may stay as it is. Returns what
 * was ignored, for the report.
 */
export function applyIgnoreMarkers(patched: DiffObject): string[] {
  const ignored: string[] = [];
  for (const { target, addend } of recordTargets(patched, IGNORE_SECTIONS_SECTION)) {
    const strings = target?.section;
    if (!target || !strings) continue;
    const name = readSectionString(strings.section, target.symbol.value + addend);
    for (const section of patched.sections.filter((s) => s.section.name === name)) {
      section.status = 'same';
      for (const s of patched.symbols) if (s.section === section) markSame(s);
    }
    ignored.push(`section ${name}`);
  }
  for (const { target, addend } of recordTargets(patched, IGNORE_FUNCTIONS_SECTION)) {
    const fn = target ? pointedFunction(patched, target, addend) : undefined;
    if (!fn) continue;
    markSame(fn);
    for (const child of fn.children) markSame(child);
    if (fn.section?.bundled === fn) fn.section.status = 'same';
    ignored.push(`function ${fn.twin?.symbol.name ?? fn.symbol.name}`);
  }
  return ignored;
}
