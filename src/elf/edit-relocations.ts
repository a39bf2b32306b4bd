import { formatError } from './byte-source.js';
import { ELF64_REL_SIZE, ELF64_RELA_SIZE, SHF_GROUP, SHF_INFO_LINK, SHT_RELA } from './constants.js';
import { addSection } from './edit-sections.js';
import { groupOf, relocationSectionFor } from './lookup.js';
import type { ElfSection } from './section.js';
import type { ElfFile, Relocation } from './types.js';

/**
 * The relocation section of `target`, created when missing the way GCC does it: `.rela<name>`
 * right after the target, SHF_INFO_LINK, in the target's group if it has one.
 */
export function ensureRelocationSection(
  elf: ElfFile,
  target: ElfSection,
  type: number = SHT_RELA,
): ElfSection {
  const existing = relocationSectionFor(elf, target);
  if (existing) {
    existing.relocations ??= [];
    return existing;
  }
  if (!elf.symtab)
    throw formatError(elf.file, `cannot add relocations to ${target.name}: the file has no symbol table`);
  const group = groupOf(elf, target);
  const section = addSection(
    elf,
    {
      name: `${type === SHT_RELA ? '.rela' : '.rel'}${target.name}`,
      type,
      flags: SHF_INFO_LINK | (group ? SHF_GROUP : 0),
      addralign: 8,
      entsize: type === SHT_RELA ? ELF64_RELA_SIZE : ELF64_REL_SIZE,
      link: elf.symtab,
      info: target,
    },
    { after: target },
  );
  section.relocations = [];
  group?.group?.members.push(section);
  return section;
}

/** Adds a relocation against `target`, creating its relocation section if needed. */
export function addRelocation(elf: ElfFile, target: ElfSection, relocation: Relocation): Relocation {
  if (relocation.symbol && !elf.symbols.includes(relocation.symbol)) {
    throw formatError(
      elf.file,
      `cannot add relocation at ${target.name}+0x${relocation.offset.toString(16)}: symbol ${relocation.symbol.name} is not in this file`,
    );
  }
  const section = ensureRelocationSection(elf, target);
  section.relocations!.push(relocation);
  return relocation;
}

/** Removes the relocations of `target` for which `predicate` holds; returns how many went. */
export function removeRelocations(
  elf: ElfFile,
  target: ElfSection,
  predicate: (relocation: Relocation) => boolean,
): number {
  const section = relocationSectionFor(elf, target);
  const relocations = section?.relocations;
  if (!section || !relocations) return 0;
  const kept = relocations.filter((r) => !predicate(r));
  section.relocations = kept;
  return relocations.length - kept.length;
}
