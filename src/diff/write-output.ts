import type { ElfFile, ElfSection, ElfSymbol, Relocation } from '../elf/index.js';
import {
  addRelocation,
  addSection,
  addSymbol,
  createElf,
  SHF_GROUP,
  SHF_LINK_ORDER,
  SHN_ABS,
  SHT_NOBITS,
  STB_GLOBAL,
  STB_LOCAL,
  STT_FILE,
  STT_SECTION,
  sectionSymbol,
} from '../elf/index.js';
import type { DiffObject, DiffSection, DiffSymbol } from './model.js';
import type { FilteredSection } from './special-sections/types.js';

export interface OutputObject {
  elf: ElfFile;
  /** Symbols left undefined, with the patched-object symbol they stand for. */
  undefinedSymbols: Array<{ output: ElfSymbol; source: DiffSymbol }>;
}

/** The name the running kernel knows: the original's, when the compiler renumbered a clone. */
export function kernelName(s: DiffSymbol): string {
  return s.twin?.symbol.name ?? s.symbol.name;
}

function outputSectionName(s: DiffSection): string {
  return s.bundled?.twin && s.twin ? s.twin.section.name : s.section.name;
}

const isAnnotation = (section: ElfSection) => section.name.startsWith('.discard.');

/**
 * A SHF_LINK_ORDER section (`__patchable_function_entries`) must name the code it describes in sh_link:
 * the output copy of the code its first kept entry points into (gcc 12 writes one such section for
 * several functions). Without one, the flag goes: the linker would reject a dangling sh_link.
 */
function linkOrderedSections(
  patched: DiffObject,
  filteredBySource: ReadonlyMap<DiffSection, FilteredSection>,
  sectionMap: Map<DiffSection, ElfSection>,
): void {
  for (const [s, section] of sectionMap) {
    if ((section.flags & SHF_LINK_ORDER) === 0) continue;
    const relocations = filteredBySource.get(s)?.relocations ?? s.relocations;
    const described = relocations
      .map((r) => (r.symbol ? patched.symbolOf.get(r.symbol)?.section : undefined))
      .find((target) => target !== undefined && sectionMap.has(target));
    if (described) section.link = sectionMap.get(described)!;
    else section.flags &= ~SHF_LINK_ORDER;
  }
}

/**
 * Builds the output object: the included sections (special sections cut to their kept entries), the
 * symbols defined in them, and every other symbol they reference as an undefined symbol. Undefined
 * symbols are written global (ELF has no undefined locals); the report keeps their real binding.
 */
export function buildOutput(
  patched: DiffObject,
  filtered: readonly FilteredSection[],
  file?: string,
): OutputObject {
  const elf = createElf({ machine: patched.elf.header.machine, ...(file ? { file } : {}) });
  const filteredBySource = new Map(filtered.map((f) => [f.source, f]));
  const sectionMap = new Map<DiffSection, ElfSection>();
  for (const s of patched.sections) {
    const cut = filteredBySource.get(s);
    if (!cut && !s.include) continue;
    const source = s.section;
    const section = addSection(elf, {
      name: outputSectionName(s),
      type: source.type,
      flags: source.flags & ~SHF_GROUP,
      addralign: source.addralign,
      entsize: source.entsize,
      ...(source.type === SHT_NOBITS
        ? { size: cut?.size ?? source.size }
        : { data: Buffer.from(cut ? cut.data : source.data) }),
    });
    sectionMap.set(s, section);
  }
  linkOrderedSections(patched, filteredBySource, sectionMap);

  if (patched.sourceFile) {
    addSymbol(elf, { name: patched.sourceFile, bind: STB_LOCAL, type: STT_FILE, specialIndex: SHN_ABS });
  }
  const symbolMap = new Map<DiffSymbol, ElfSymbol>();
  const undefinedSymbols: OutputObject['undefinedSymbols'] = [];
  const outputSymbol = (s: DiffSymbol): ElfSymbol => {
    const known = symbolMap.get(s);
    if (known) return known;
    let created: ElfSymbol;
    const section = s.section ? sectionMap.get(s.section) : undefined;
    if (s.symbol.type === STT_SECTION) {
      if (!section)
        throw new Error(`internal: section symbol of ${s.section?.section.name} used but not copied`);
      created = sectionSymbol(elf, section);
    } else if (section) {
      const moved = s.section ? filteredBySource.get(s.section)?.symbolValues?.get(s) : undefined;
      created = addSymbol(elf, {
        ...s.symbol,
        name: kernelName(s),
        section,
        ...(moved === undefined ? {} : { value: moved }),
      });
    } else {
      created = addSymbol(elf, {
        name: kernelName(s),
        bind: s.symbol.bind === STB_LOCAL ? STB_GLOBAL : s.symbol.bind,
        type: s.symbol.type,
      });
      undefinedSymbols.push({ output: created, source: s });
    }
    symbolMap.set(s, created);
    return created;
  };

  for (const s of patched.symbols) {
    if (s.symbol.type === STT_FILE || s.symbol.type === STT_SECTION) continue;
    if (!s.section || !sectionMap.has(s.section) || !s.include) continue;
    const values = filteredBySource.get(s.section)?.symbolValues;
    if (!values || values.has(s)) outputSymbol(s);
  }
  for (const [s, section] of sectionMap) {
    const relocations: readonly Relocation[] = filteredBySource.get(s)?.relocations ?? s.relocations;
    for (const r of relocations) {
      const target = r.symbol ? patched.symbolOf.get(r.symbol) : undefined;
      const copiedIn = target?.section ? sectionMap.get(target.section) : undefined;
      // objtool reads its annotations (.discard.reachable, ...) only as "section symbol + offset"; with a
      // function symbol there it gives up on the whole module. (issue 13 interim fix, see ibt-findings)
      if (isAnnotation(section) && target && copiedIn && target.symbol.type !== STT_SECTION) {
        const addend = r.addend + target.symbol.value;
        addRelocation(elf, section, { ...r, symbol: sectionSymbol(elf, copiedIn), addend });
        continue;
      }
      addRelocation(elf, section, { ...r, symbol: target ? outputSymbol(target) : undefined });
    }
  }
  return { elf, undefinedSymbols };
}
