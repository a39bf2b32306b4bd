/**
 * The last pass: with every symbol resolved and every site checked, rewrite the module: drop the
 * KLP_MODULE_RELOC arrays, turn each planned symbol into its .klp.sym symbol, move its relocations into
 * .klp.rela sections (zeroing the bytes they will write), drop versions and depends it no longer needs.
 */
import type { ElfFile, ElfSection, ElfSymbol, Relocation } from '../elf/index.js';
import {
  addSection,
  ELF64_RELA_SIZE,
  relocationTypeInfo,
  removeSection,
  removeSymbol,
  SHF_ALLOC,
  SHF_INFO_LINK,
  SHT_REL,
  SHT_RELA,
} from '../elf/index.js';
import { ConvertError } from '../errors.js';
import type { ConvertedSymbol, ConvertReport, KlpSectionReport, Plan, SymbolUses } from './convert-types.js';
import {
  klpRelaObject,
  klpRelaSectionName,
  klpSymbolName,
  parseKlpSymbolName,
  SHF_RELA_LIVEPATCH,
  SHN_LIVEPATCH,
  VMLINUX,
} from './klp-names.js';
import { removeDepends, removeVersions } from './module-metadata.js';

/** Problems with the livepatch relocation sections of `elf` (the kernel would refuse the module). */
export function livepatchSectionProblems(elf: ElfFile): string[] {
  const problems: string[] = [];
  const parsedNames = new Map<ElfSymbol, ReturnType<typeof parseKlpSymbolName>>();
  for (const section of elf.sections) {
    if (!(section.flags & SHF_RELA_LIVEPATCH)) continue;
    const object = klpRelaObject(section.name);
    if (section.type !== SHT_RELA || !object) {
      problems.push(
        `section ${section.name} is marked SHF_RELA_LIVEPATCH but is not a .klp.rela.<object>.<section> SHT_RELA section`,
      );
      continue;
    }
    for (const relocation of section.relocations ?? []) {
      const symbol = relocation.symbol;
      let parsed = symbol ? parsedNames.get(symbol) : undefined;
      if (symbol && !parsedNames.has(symbol)) {
        parsed = parseKlpSymbolName(symbol.name);
        parsedNames.set(symbol, parsed);
      }
      if (!symbol || symbol.section || symbol.specialIndex !== SHN_LIVEPATCH || !parsed) {
        problems.push(
          `${section.name} at 0x${relocation.offset.toString(16)}: symbol ${symbol?.name || '(none)'} is not a .klp.sym livepatch symbol`,
        );
      } else if (parsed.object !== object) {
        problems.push(
          `${section.name}: symbol ${symbol.name} belongs to ${parsed.object}, but the section is applied for ${object}`,
        );
      }
    }
  }
  return problems;
}

/**
 * Removes the relocations of non-allocated sections (debug info describing a KLP_MODULE_RELOC array) that
 * refer to symbols of `section`, so the section can go. The loader never applies those relocations.
 */
function dropDebugReferences(elf: ElfFile, section: ElfSection): void {
  for (const other of elf.sections) {
    if (other.type !== SHT_RELA && other.type !== SHT_REL) continue;
    const target = other.info;
    if (typeof target === 'number' || target === section || target.flags & SHF_ALLOC) continue;
    const relocations = other.relocations ?? [];
    if (relocations.some((r) => r.symbol?.section === section)) {
      other.relocations = relocations.filter((r) => r.symbol?.section !== section);
    }
  }
}

export interface Extras {
  exportsKept: string[];
  unresolved: string[];
  warnings: string[];
  /** Modules whose exports are still used by normal relocations. */
  stillNeeded: ReadonlySet<string>;
}

export function applyPlans(
  elf: ElfFile,
  plans: readonly Plan[],
  uses: ReadonlyMap<ElfSymbol, SymbolUses>,
  relocSections: readonly ElfSection[],
  extras: Extras,
): ConvertReport {
  const removedSections: string[] = [];
  for (const section of relocSections) {
    const relocationSection = elf.sections.find((s) => s.type === SHT_RELA && s.info === section);
    dropDebugReferences(elf, section);
    removeSection(elf, section, { withDependents: true });
    removedSections.push(section.name);
    if (relocationSection) removedSections.push(relocationSection.name);
  }

  // Livepatch symbols already present (a module converted before) are reused.
  const existingKlp = new Map<string, ElfSymbol>();
  for (const symbol of elf.symbols) {
    if (!symbol.section && symbol.specialIndex === SHN_LIVEPATCH) existingKlp.set(symbol.name, symbol);
  }
  const klpSections = new Map<string, ElfSection>();
  for (const section of elf.sections)
    if (section.flags & SHF_RELA_LIVEPATCH) klpSections.set(section.name, section);

  const converted: ConvertedSymbol[] = [];
  const moved = new Map<ElfSection, Set<Relocation>>();
  const removeSymbols: ElfSymbol[] = [];
  const created: ElfSection[] = [];
  for (const plan of plans) {
    const klpName = klpSymbolName(plan.object, plan.name, plan.sympos);
    const symbolUses = uses.get(plan.symbol) ?? { alloc: [], other: 0 };
    let klpSymbol = existingKlp.get(klpName);
    if (klpSymbol) {
      removeSymbols.push(plan.symbol);
    } else {
      klpSymbol = plan.symbol;
      klpSymbol.name = klpName;
      klpSymbol.nameOffset = -1;
      klpSymbol.section = undefined;
      klpSymbol.specialIndex = SHN_LIVEPATCH;
      existingKlp.set(klpName, klpSymbol);
      // Declared but never used: nothing may keep an unresolvable symbol in the table.
      if (symbolUses.alloc.length === 0 && symbolUses.other === 0) removeSymbols.push(klpSymbol);
    }
    for (const use of symbolUses.alloc) {
      const sectionName = klpRelaSectionName(plan.object, use.target.name);
      let klpSection = klpSections.get(sectionName);
      if (!klpSection) {
        klpSection = addSection(
          elf,
          {
            name: sectionName,
            type: SHT_RELA,
            flags: SHF_ALLOC | SHF_INFO_LINK | SHF_RELA_LIVEPATCH,
            addralign: 8,
            entsize: ELF64_RELA_SIZE,
            link: elf.symtab!,
            info: use.target,
          },
          { after: use.relocationSection },
        );
        klpSection.relocations = [];
        klpSections.set(sectionName, klpSection);
        created.push(klpSection);
      }
      const { relocation, target } = use;
      // x86's apply_relocate_add() refuses to write over anything but zeros.
      const width = relocationTypeInfo(elf.header.machine, relocation.type)?.width ?? 0;
      const at = Number(relocation.offset);
      if (at < 0 || at + width > target.data.length) {
        throw new ConvertError(
          `${elf.file ?? 'module'}: relocation of ${plan.name} at ${target.name}+0x${at.toString(16)} is outside the section`,
        );
      }
      target.data.fill(0, at, at + width);
      klpSection.relocations!.push({
        offset: relocation.offset,
        type: relocation.type,
        symbol: klpSymbol,
        addend: relocation.addend,
      });
      let set = moved.get(use.relocationSection);
      if (!set) {
        set = new Set();
        moved.set(use.relocationSection, set);
      }
      set.add(relocation);
    }
    if (klpSymbol !== plan.symbol) {
      // Point what stays (debug info) at the livepatch symbol that replaces this one.
      for (const section of elf.sections) {
        for (const relocation of section.relocations ?? []) {
          if (relocation.symbol === plan.symbol) relocation.symbol = klpSymbol;
        }
      }
    }
    converted.push({
      name: plan.name,
      object: plan.object,
      sympos: plan.sympos,
      klpSymbol: klpName,
      reason: plan.reason,
      relocations: symbolUses.alloc.length,
      candidates: plan.candidates,
      declaredAt: plan.declaredAt,
    });
  }

  // Entries of the sections written here in offset order, as a compiler would have them.
  for (const section of created)
    section.relocations?.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));

  for (const [section, relocations] of moved) {
    const kept = (section.relocations ?? []).filter((r) => !relocations.has(r));
    section.relocations = kept;
    if (kept.length === 0) {
      removeSection(elf, section);
      removedSections.push(section.name);
    }
  }
  for (const symbol of removeSymbols) removeSymbol(elf, symbol);

  const removedVersions = removeVersions(elf, new Set(converted.map((c) => c.name)));
  const convertedModules = new Set(
    converted.map((c) => c.object).filter((o) => o !== VMLINUX && !extras.stillNeeded.has(o)),
  );
  const removedDepends = removeDepends(elf, convertedModules);

  const problems = livepatchSectionProblems(elf);
  if (problems.length > 0) {
    throw new ConvertError(
      `${elf.file ?? 'module'}: livepatch relocation sections the kernel would refuse:\n  - ${problems.join('\n  - ')}`,
      {
        hint: 'the input already had malformed .klp.rela sections; rebuild it from source',
      },
    );
  }
  const klpReport: KlpSectionReport[] = elf.sections
    .filter((s) => s.flags & SHF_RELA_LIVEPATCH)
    .map((s) => ({
      name: s.name,
      target: typeof s.info === 'number' ? String(s.info) : s.info.name,
      relocations: s.relocations?.length ?? 0,
    }));
  return {
    converted,
    exportsKept: extras.exportsKept,
    unresolved: extras.unresolved,
    klpSections: klpReport,
    removedSections,
    removedVersions,
    removedDepends,
    warnings: extras.warnings,
  };
}
