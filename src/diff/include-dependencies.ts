import type { Relocation } from '../elf/index.js';
import { STB_LOCAL, STT_FUNC, STT_OBJECT, STT_SECTION } from '../elf/index.js';
import type { DiffObject, DiffSection, DiffSymbol } from './model.js';
import { isAssemblerLabel, isSpecialStaticSection } from './symbol-names.js';
import { relocationsBetween } from './symbol-ranges.js';

/**
 * A static in a section of per-site statics (`__dyndbg`, `.data.once`): it is copied alone, so only
 * its own relocations are followed; the section is cut to the copied statics when the output is built.
 */
export function copiedAlone(s: DiffSymbol): boolean {
  return (
    s.section !== undefined &&
    s.symbol.type !== STT_SECTION &&
    !s.section.bundled &&
    isSpecialStaticSection(s.section.section.name)
  );
}

/**
 * Marks a symbol for the output and follows what it needs. An unchanged function or variable is only
 * referenced (it resolves to the running kernel's copy); a changed or new one, a special static and
 * anything reached through a section symbol or an assembler label (strings, anonymous read-only
 * data) is copied, and the
 * copy's relocations are followed in turn. `copy` forces copying (a `.cold` piece of a changed function).
 */
export function includeSymbol(object: DiffObject, symbol: DiffSymbol, copy = false): void {
  const pending: Array<[DiffSymbol, boolean]> = [[symbol, copy]];
  while (pending.length > 0) {
    const [s, forceCopy] = pending.pop()!;
    s.include = true;
    const section = s.section;
    if (section && !section.include && copiedAlone(s)) {
      const end = s.symbol.value + (s.symbol.size === 0n ? 1n : s.symbol.size);
      for (const relocation of relocationsBetween(section, s.symbol.value, end)) {
        const target = relocation.symbol ? object.symbolOf.get(relocation.symbol) : undefined;
        if (target && !target.include) pending.push([target, false]);
      }
      continue;
    }
    if (!section || section.include) continue;
    const anonymous = s.symbol.type === STT_SECTION || isAssemblerLabel(s.symbol);
    if (!forceCopy && !anonymous && s.status === 'same') continue;
    section.include = true;
    if (section.bundled) section.bundled.include = true;
    for (const other of object.symbols) {
      if (other.section === section && !other.include) other.include = true;
    }
    for (const relocation of section.relocations) {
      const target = relocation.symbol ? object.symbolOf.get(relocation.symbol) : undefined;
      if (target && !target.include) pending.push([target, false]);
    }
  }
}

/** Follows the relocations of kept special-section entries. */
export function includeRelocationTargets(object: DiffObject, relocations: readonly Relocation[]): void {
  for (const relocation of relocations) {
    const target = relocation.symbol ? object.symbolOf.get(relocation.symbol) : undefined;
    if (target) includeSymbol(object, target);
  }
}

/**
 * Chooses what the livepatch must carry: changed and new functions with their `.cold`/`.part` pieces,
 * and new global data; the rest follows from their relocations. Returns the changed and new functions.
 */
export function includeChangedFunctions(patched: DiffObject): DiffSymbol[] {
  const chosen: DiffSymbol[] = [];
  for (const s of patched.symbols) {
    if (!s.section || s.status === 'same' || s.prefixOf) continue;
    const isFunction = s.symbol.type === STT_FUNC;
    const isNewGlobalData = s.symbol.type === STT_OBJECT && s.status === 'new' && s.symbol.bind !== STB_LOCAL;
    if (!isFunction && !isNewGlobalData) continue;
    if (isFunction) chosen.push(s);
    includeSymbol(patched, s);
    for (const child of s.children) includeSymbol(patched, child, true);
  }
  return chosen;
}

/** Whether the symbol is defined in the output (copied), not merely referenced. */
export function isCopied(s: DiffSymbol): boolean {
  return s.include && (s.section?.include === true || copiedAlone(s));
}

/** Sections copied into the output. */
export function includedSections(object: DiffObject): DiffSection[] {
  return object.sections.filter((s) => s.include);
}
