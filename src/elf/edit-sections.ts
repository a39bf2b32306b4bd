import { formatError } from './byte-source.js';
import { SHT_REL, SHT_RELA } from './constants.js';
import type { SectionInit } from './section.js';
import { ElfSection } from './section.js';
import type { ElfFile, ElfSymbol } from './types.js';

export interface AddSectionOptions {
  /** Insert right after this section (default: at the end). */
  after?: ElfSection;
}

function positionOf(elf: ElfFile, section: ElfSection, what: string): number {
  const i = elf.sections.indexOf(section);
  if (i < 0) throw formatError(elf.file, `${what}: section ${section.name} is not in this file`);
  return i;
}

/** Creates a section and inserts it; its index and offset are decided when the file is written. */
export function addSection(elf: ElfFile, init: SectionInit, options: AddSectionOptions = {}): ElfSection {
  const section = new ElfSection(init);
  const at = options.after ? positionOf(elf, options.after, 'addSection') + 1 : elf.sections.length;
  elf.sections.splice(at, 0, section);
  return section;
}

/** Renames a section and, following the usual naming, its `.rela`/`.rel` section. */
export function renameSection(elf: ElfFile, section: ElfSection, name: string): void {
  positionOf(elf, section, 'renameSection');
  for (const other of elf.sections) {
    if (other.info !== section || (other.type !== SHT_RELA && other.type !== SHT_REL)) continue;
    const prefix = other.type === SHT_RELA ? '.rela' : '.rel';
    if (other.name === `${prefix}${section.name}`) other.name = `${prefix}${name}`;
  }
  section.name = name;
}

export interface RemoveSectionOptions {
  /**
   * Also remove what depends on the section: its relocation sections, the symbols defined in it and its
   * group membership (a group left empty goes too). Relocations elsewhere that use those symbols still
   * make the removal fail.
   */
  withDependents?: boolean;
}

function isRelocationSectionOf(candidate: ElfSection, target: ElfSection): boolean {
  return (candidate.type === SHT_RELA || candidate.type === SHT_REL) && candidate.info === target;
}

/** What keeps the sections `removed` (with symbols `dropped`) from going, as readable lines. */
function blockers(
  elf: ElfFile,
  removed: ReadonlySet<ElfSection>,
  dropped: ReadonlySet<ElfSymbol>,
  withDependents: boolean,
): string[] {
  const found: string[] = [];
  if (elf.symtab && removed.has(elf.symtab)) found.push('it is the symbol table');
  if (elf.sectionNames && removed.has(elf.sectionNames)) found.push('it is the section name string table');
  for (const other of elf.sections) {
    if (removed.has(other)) continue;
    if (typeof other.link !== 'number' && removed.has(other.link))
      found.push(`sh_link of ${other.name} points to it`);
    if (typeof other.info !== 'number' && removed.has(other.info))
      found.push(`sh_info of ${other.name} points to it`);
    const group = other.group;
    if (group && !withDependents && group.members.some((m) => removed.has(m))) {
      found.push(`it is a member of group ${other.name}`);
    }
    if (group?.signature && dropped.has(group.signature)) {
      found.push(`group ${other.name} has signature ${group.signature.name} defined in it`);
    }
    for (const rel of (other.type === SHT_RELA || other.type === SHT_REL ? other.relocations : undefined) ??
      []) {
      if (rel.symbol && dropped.has(rel.symbol)) {
        found.push(
          `relocation in ${other.name} at 0x${rel.offset.toString(16)} uses symbol ${rel.symbol.name || '(section)'}`,
        );
      }
    }
  }
  for (const symbol of elf.symbols) {
    if (symbol.section && removed.has(symbol.section) && !dropped.has(symbol) && found.length < 20) {
      found.push(`symbol ${symbol.name || '(section symbol)'} is defined in it`);
    }
  }
  return found;
}

/**
 * Removes a section. Fails with a list of the references when anything still points to it, so the
 * written file can never hold a dangling index; `withDependents` removes the dependents listed above.
 */
export function removeSection(elf: ElfFile, section: ElfSection, options: RemoveSectionOptions = {}): void {
  positionOf(elf, section, 'removeSection');
  const withDependents = options.withDependents === true;
  const removed = new Set([section]);
  if (withDependents) for (const s of elf.sections) if (isRelocationSectionOf(s, section)) removed.add(s);
  const dropped = new Set(
    withDependents ? elf.symbols.filter((s) => s.section && removed.has(s.section)) : [],
  );
  const emptiedGroups = withDependents
    ? elf.sections.filter((g) => g.group && !removed.has(g) && g.group.members.every((m) => removed.has(m)))
    : [];
  for (const group of emptiedGroups) removed.add(group);
  const found = blockers(elf, removed, dropped, withDependents);
  if (found.length > 0) {
    const shown = found.slice(0, 8).join('; ');
    const more = found.length > 8 ? `; and ${found.length - 8} more` : '';
    throw formatError(elf.file, `cannot remove section ${section.name}: ${shown}${more}`);
  }
  elf.sections = elf.sections.filter((s) => !removed.has(s));
  if (dropped.size > 0) elf.symbols = elf.symbols.filter((s) => !dropped.has(s));
  for (const s of elf.sections) {
    if (s.group) s.group.members = s.group.members.filter((m) => !removed.has(m));
  }
}
