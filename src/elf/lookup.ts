import { SHT_REL, SHT_RELA, STB_LOCAL } from './constants.js';
import type { ElfSection } from './section.js';
import type { ElfFile, ElfSymbol, Relocation } from './types.js';

/** The first section called `name`. */
export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

/** Sections by name; names need not be unique (e.g. several .text in an `ld -r` result). */
export function sectionsByName(elf: ElfFile): Map<string, ElfSection[]> {
  return groupByName(elf.sections);
}

/** A symbol called `name`: the global or weak one if there is one, else the first local one. */
export function findSymbol(elf: ElfFile, name: string): ElfSymbol | undefined {
  let local: ElfSymbol | undefined;
  for (const symbol of elf.symbols) {
    if (symbol.name !== name) continue;
    if (symbol.bind !== STB_LOCAL) return symbol;
    local ??= symbol;
  }
  return local;
}

/** Symbols by name; static symbols of different files may share one. */
export function symbolsByName(elf: ElfFile): Map<string, ElfSymbol[]> {
  return groupByName(elf.symbols);
}

/** Symbols defined in `section`. */
export function symbolsInSection(elf: ElfFile, section: ElfSection): ElfSymbol[] {
  return elf.symbols.filter((s) => s.section === section);
}

/** The SHT_RELA/SHT_REL section whose sh_info is `target`. */
export function relocationSectionFor(elf: ElfFile, target: ElfSection): ElfSection | undefined {
  // Several relocation sections may patch one section (tools add their own); the one named after it
  // (.rela<name> / .rel<name>) is the conventional one, so it wins.
  const candidates = elf.sections.filter(
    (s) => (s.type === SHT_RELA || s.type === SHT_REL) && s.info === target,
  );
  return (
    candidates.find((s) => s.name === `.rela${target.name}` || s.name === `.rel${target.name}`) ??
    candidates[0]
  );
}

/** Relocations applied to `target` (empty when it has none). */
export function relocationsOf(elf: ElfFile, target: ElfSection): readonly Relocation[] {
  return relocationSectionFor(elf, target)?.relocations ?? [];
}

/** Every relocation of the file with the section it lives in and the section it patches. */
export function* allRelocations(
  elf: ElfFile,
): Generator<{ section: ElfSection; target: ElfSection | undefined; relocation: Relocation }> {
  for (const section of elf.sections) {
    if (section.type !== SHT_RELA && section.type !== SHT_REL) continue;
    const target = typeof section.info === 'number' ? undefined : section.info;
    for (const relocation of section.relocations ?? []) yield { section, target, relocation };
  }
}

/** The group section `section` belongs to. */
export function groupOf(elf: ElfFile, section: ElfSection): ElfSection | undefined {
  return elf.sections.find((s) => s.group?.members.includes(section));
}

/** The index `section` has in the model now (what it gets when written), or -1. */
export function sectionIndex(elf: ElfFile, section: ElfSection): number {
  const i = elf.sections.indexOf(section);
  return i < 0 ? -1 : i + 1;
}

function groupByName<T extends { name: string }>(items: readonly T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const list = map.get(item.name);
    if (list) list.push(item);
    else map.set(item.name, [item]);
  }
  return map;
}
