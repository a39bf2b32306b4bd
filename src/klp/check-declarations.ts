/**
 * Pass: the module's KLP_MODULE_RELOC arrays. Each symbol may be declared once (or the same way again),
 * and nothing but the arrays' own relocations may refer to them: klp-convert removes them.
 */
import type { ElfFile, ElfSection, ElfSymbol } from '../elf/index.js';
import { SHF_ALLOC, SHT_REL, SHT_RELA } from '../elf/index.js';
import { arrayReferenced, declaredTwice } from './convert-messages.js';
import type { SymposDeclaration } from './module-relocs.js';
import { readModuleRelocs } from './module-relocs.js';

export interface Declarations {
  /** The position each declared symbol was given. */
  declared: Map<ElfSymbol, SymposDeclaration>;
  /** The KLP_MODULE_RELOC array sections. */
  sections: ElfSection[];
  problems: string[];
}

/** True when two declarations of one symbol disagree on its object or position. */
const disagree = (a: SymposDeclaration, b: SymposDeclaration) =>
  a.object !== b.object || a.sympos !== b.sympos;

/** The allocated sections whose relocations point into `array`. */
function usersOf(elf: ElfFile, array: ElfSection): ElfSection[] {
  return elf.sections.flatMap((other) => {
    const target = other.info;
    if ((other.type !== SHT_RELA && other.type !== SHT_REL) || typeof target === 'number') return [];
    if (target === array || !(target.flags & SHF_ALLOC)) return [];
    return (other.relocations ?? []).some((r) => r.symbol?.section === array) ? [target] : [];
  });
}

export function checkDeclarations(elf: ElfFile): Declarations {
  const relocs = readModuleRelocs(elf);
  const problems = [...relocs.problems];
  const declared = new Map<ElfSymbol, SymposDeclaration>();
  for (const declaration of relocs.declarations) {
    const earlier = declared.get(declaration.symbol);
    if (earlier && disagree(earlier, declaration)) problems.push(declaredTwice(earlier, declaration));
    else if (!earlier) declared.set(declaration.symbol, declaration);
  }
  for (const section of relocs.sections) {
    for (const user of usersOf(elf, section)) problems.push(arrayReferenced(user.name, section.name));
  }
  return { declared, sections: relocs.sections, problems };
}
