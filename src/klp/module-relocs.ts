import type { ElfFile, ElfSection, ElfSymbol } from '../elf/index.js';
import {
  R_X86_64_64,
  readSectionInt,
  relocationSectionFor,
  relocationTypeName,
  SHN_UNDEF,
  SHT_NOBITS,
} from '../elf/index.js';
import { MODULE_RELOCS_PREFIX, objectNameProblem } from './klp-names.js';

/** One KLP_SYMPOS(sym, pos) entry of a KLP_MODULE_RELOC(obj) array. */
export interface SymposDeclaration {
  object: string;
  symbol: ElfSymbol;
  sympos: number;
  /** Where it was declared, for messages: `.klp.module_relocs.vmlinux[2]` (entries in offset order). */
  where: string;
}

/** struct klp_module_reloc { void *sym; unsigned int sympos; } __packed */
export const MODULE_RELOC_ENTRY_SIZE = 12;

export interface ModuleRelocs {
  sections: ElfSection[];
  declarations: SymposDeclaration[];
  /** Entries that cannot be used, as readable problems. */
  problems: string[];
}

/** Reads every `.klp.module_relocs.<obj>` section: which undefined symbol each entry names, and its sympos. */
export function readModuleRelocs(elf: ElfFile): ModuleRelocs {
  const sections = elf.sections.filter((s) => s.name.startsWith(MODULE_RELOCS_PREFIX));
  const declarations: SymposDeclaration[] = [];
  const problems: string[] = [];
  for (const section of sections) {
    const object = section.name.slice(MODULE_RELOCS_PREFIX.length);
    const nameProblem = objectNameProblem(object);
    if (nameProblem) {
      problems.push(`section ${section.name}: ${nameProblem}`);
      continue;
    }
    if (section.type === SHT_NOBITS) {
      problems.push(`section ${section.name} has no data`);
      continue;
    }
    // Arrays from several KLP_MODULE_RELOC() lines or files share the section with alignment padding
    // between them, so entries are found through their relocations, in offset order.
    const relocations = [...(relocationSectionFor(elf, section)?.relocations ?? [])].sort((a, b) =>
      a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0,
    );
    const covered = Buffer.alloc(section.size);
    relocations.forEach((relocation, i) => {
      const offset = Number(relocation.offset);
      const where = `${section.name}[${i}]`;
      const symbol = relocation.symbol;
      if (offset + MODULE_RELOC_ENTRY_SIZE > section.size || covered[offset] === 1) {
        problems.push(`${where}: a relocation at offset ${offset} does not start a whole KLP_SYMPOS entry`);
        return;
      }
      covered.fill(1, offset, offset + MODULE_RELOC_ENTRY_SIZE);
      if (relocation.type !== R_X86_64_64 || relocation.addend !== 0n || !symbol) {
        problems.push(
          `${where}: expected an R_X86_64_64 relocation with addend 0 at offset ${offset}, found ${relocationTypeName(elf.header.machine, relocation.type)} ${symbol?.name || '(section)'}${relocation.addend ? `+${relocation.addend}` : ''}`,
        );
        return;
      }
      if (symbol.section || symbol.specialIndex !== SHN_UNDEF || symbol.name === '') {
        const what = symbol.name || `a symbol of section ${symbol.section?.name ?? '?'}`;
        problems.push(
          `${where}: ${what} is defined in this module, not in ${object}; KLP_SYMPOS() takes the extern declaration of a symbol the module does not define`,
        );
        return;
      }
      declarations.push({ object, symbol, sympos: Number(readSectionInt(section, offset + 8, 4)), where });
    });
    // Anything but zero padding outside the entries is an entry without a symbol (e.g. a NULL pointer).
    const stray = section.data.findIndex((byte, at) => byte !== 0 && covered[at] === 0);
    if (stray >= 0) {
      problems.push(
        `${section.name}: bytes at offset ${stray} belong to no KLP_SYMPOS entry with a symbol; each entry must name an extern symbol`,
      );
    }
  }
  return { sections, declarations, problems };
}
