import type { ElfFile, ElfSection, ElfSymbol, Relocation } from '../elf/index.js';
import {
  addSection,
  ELF64_RELA_SIZE,
  EM_X86_64,
  ET_REL,
  R_X86_64_32,
  R_X86_64_32S,
  R_X86_64_64,
  R_X86_64_NONE,
  R_X86_64_PC32,
  R_X86_64_PC64,
  R_X86_64_PLT32,
  relocationTypeInfo,
  relocationTypeName,
  removeSection,
  removeSymbol,
  SHF_ALLOC,
  SHF_INFO_LINK,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_REL,
  SHT_RELA,
  STB_WEAK,
  STT_SECTION,
} from '../elf/index.js';
import { ConvertError } from '../errors.js';
import { modinfoValue } from '../module/modinfo.js';
import type { ModuleSymbols } from '../symbols/module-symbols.js';
import type { ExportedSymbol } from '../symbols/parse-module-symvers.js';
import { moduleNameOf } from '../symbols/parse-module-symvers.js';
import type { ObjectSymbol, ObjectSymbols } from '../symbols/resolve-sympos.js';
import { resolveSympos } from '../symbols/resolve-sympos.js';
import {
  klpRelaObject,
  klpRelaSectionName,
  klpSymbolName,
  objectNameProblem,
  parseKlpSymbolName,
  SHF_RELA_LIVEPATCH,
  SHN_LIVEPATCH,
  symbolNameProblem,
  VMLINUX,
} from './klp-names.js';
import { removeDepends, removeVersions } from './module-metadata.js';
import type { SymposDeclaration } from './module-relocs.js';
import { readModuleRelocs } from './module-relocs.js';

/** What klp-convert knows about the target kernel. */
export interface ConvertContext {
  /** vmlinux's symbols in sympos order; undefined when no symbol source was given. */
  vmlinux?: ObjectSymbols | undefined;
  /** Where the vmlinux symbols came from, for messages. */
  vmlinuxSource?: string | undefined;
  /** Module.symvers of the target: who exports what. */
  exports?: ReadonlyMap<string, ExportedSymbol> | undefined;
  /** Target modules read from their .ko files, by kernel module name. */
  modules?: ReadonlyMap<string, ModuleSymbols> | undefined;
  /** Leave references to symbols found nowhere as they are instead of failing. */
  allowUnresolved?: boolean | undefined;
}

/** Why a symbol was converted. */
export type ConversionReason =
  /** KLP_SYMPOS() in a KLP_MODULE_RELOC() array named it. */
  | 'declared'
  /** Not exported, and the name is unique in the one object that has it. */
  | 'unique'
  /** Exported by a module: a livepatch must not make that module a dependency. */
  | 'module-export';

export interface ConvertedSymbol {
  name: string;
  object: string;
  sympos: number;
  klpSymbol: string;
  reason: ConversionReason;
  /** Relocations moved into .klp.rela sections. */
  relocations: number;
  /** How many symbols of the object have the name, when known. */
  candidates: number | undefined;
  /** The KLP_SYMPOS entry that declared it, if one did. */
  declaredAt: string | undefined;
}

export interface KlpSectionReport {
  name: string;
  /** The section the relocations apply to (sh_info). */
  target: string;
  relocations: number;
}

export interface ConvertReport {
  converted: ConvertedSymbol[];
  /** Referenced symbols exported by vmlinux: left as normal relocations. */
  exportsKept: string[];
  /** Symbols found nowhere and left as they are (--allow-unresolved, or weak references). */
  unresolved: string[];
  /** Every livepatch relocation section of the result. */
  klpSections: KlpSectionReport[];
  /** Sections that were removed (KLP_MODULE_RELOC arrays, emptied .rela sections). */
  removedSections: string[];
  /** __versions entries removed. */
  removedVersions: string[];
  /** Modules removed from .modinfo depends=. */
  removedDepends: string[];
  warnings: string[];
}

/** Relocation types x86-64's apply_relocate_add() can write. */
const KERNEL_RELOCATION_TYPES: ReadonlySet<number> = new Set([
  R_X86_64_NONE,
  R_X86_64_64,
  R_X86_64_32,
  R_X86_64_32S,
  R_X86_64_PC32,
  R_X86_64_PLT32,
  R_X86_64_PC64,
]);

/**
 * Sections a module-specific livepatch relocation must not patch: module-specific relocations are written
 * only when the target module is there, after the livepatch module's init code is gone and after the
 * loader has processed its jump labels, static calls and alternatives.
 */
function moduleSpecificProblem(target: ElfSection): string | undefined {
  if (target.name.startsWith('.init')) return 'init code and data are freed before it could be written';
  const special = [
    '__jump_table',
    '.static_call_sites',
    '.altinstructions',
    '.altinstr_replacement',
    '.parainstructions',
    '.smp_locks',
    '__ex_table',
  ];
  if (special.includes(target.name)) return 'the module loader reads that section before it could be written';
  return undefined;
}

interface Use {
  relocationSection: ElfSection;
  target: ElfSection;
  relocation: Relocation;
}

interface SymbolUses {
  /** Relocations patching allocated sections: these become livepatch relocations. */
  alloc: Use[];
  /** Relocations of non-allocated sections (debug info); the loader never applies them. */
  other: number;
}

interface Plan {
  symbol: ElfSymbol;
  name: string;
  object: string;
  sympos: number;
  reason: ConversionReason;
  candidates: number | undefined;
  declaredAt: string | undefined;
}

type Decision =
  | {
      kind: 'convert';
      object: string;
      sympos: number;
      reason: ConversionReason;
      candidates: number | undefined;
    }
  | { kind: 'export' }
  | { kind: 'unresolved' }
  | { kind: 'problem'; text: string };

function hex(address: bigint | undefined): string {
  return address === undefined ? '?'.padStart(16) : address.toString(16).padStart(16, '0');
}

/** One line per candidate, with the annotation that selects it. */
function candidateLines(name: string, candidates: readonly ObjectSymbol[]): string {
  return candidates
    .map((c, i) => {
      const where = c.file ? `  ${c.file}` : '';
      return `      KLP_SYMPOS(${name}, ${i + 1})  ${hex(c.address)} ${c.type ?? '?'}${where}`;
    })
    .join('\n');
}

function usedIn(uses: SymbolUses | undefined): string {
  const names = [...new Set((uses?.alloc ?? []).map((u) => u.target.name))];
  if (names.length === 0) return 'not used outside its KLP_SYMPOS entry';
  const shown = names.slice(0, 3).join(', ');
  return `used in ${shown}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`;
}

function isUndefined(symbol: ElfSymbol): boolean {
  return (
    !symbol.section && symbol.specialIndex === SHN_UNDEF && symbol.name !== '' && symbol.type !== STT_SECTION
  );
}

/** Every relocation against an undefined symbol, per symbol. Livepatch relocation sections are skipped. */
function collectUses(elf: ElfFile): Map<ElfSymbol, SymbolUses> {
  const uses = new Map<ElfSymbol, SymbolUses>();
  for (const section of elf.sections) {
    if (section.type !== SHT_RELA && section.type !== SHT_REL) continue;
    if (section.flags & SHF_RELA_LIVEPATCH) continue;
    const target = section.info;
    if (typeof target === 'number') continue;
    const alloc = (target.flags & SHF_ALLOC) !== 0;
    for (const relocation of section.relocations ?? []) {
      const symbol = relocation.symbol;
      if (!symbol || !isUndefined(symbol)) continue;
      let entry = uses.get(symbol);
      if (!entry) {
        entry = { alloc: [], other: 0 };
        uses.set(symbol, entry);
      }
      if (alloc) entry.alloc.push({ relocationSection: section, target, relocation });
      else entry.other++;
    }
  }
  return uses;
}

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
 * Turns a kbuild-built livepatch module into one the kernel's livepatch loader can resolve: references to
 * symbols the module loader cannot resolve become `.klp.rela.<obj>.<section>` relocations against
 * `.klp.sym.<obj>.<name>,<sympos>` symbols. Edits `elf` in place; throws ConvertError listing every
 * problem (ambiguous or missing symbols, names the kernel cannot parse) before changing anything.
 */
export function convertElf(elf: ElfFile, context: ConvertContext = {}): ConvertReport {
  const file = elf.file ?? 'module';
  checkShape(elf, file);
  const modules = context.modules ?? new Map<string, ModuleSymbols>();
  const problems: string[] = [];
  const warnings: string[] = [];

  const relocs = readModuleRelocs(elf);
  problems.push(...relocs.problems);
  const declared = new Map<ElfSymbol, SymposDeclaration>();
  for (const declaration of relocs.declarations) {
    const earlier = declared.get(declaration.symbol);
    if (earlier && (earlier.object !== declaration.object || earlier.sympos !== declaration.sympos)) {
      problems.push(
        `${declaration.symbol.name} is declared twice, differently: KLP_SYMPOS(${declaration.symbol.name}, ${earlier.sympos}) for ${earlier.object} in ${earlier.where} and KLP_SYMPOS(${declaration.symbol.name}, ${declaration.sympos}) for ${declaration.object} in ${declaration.where}`,
      );
    } else if (!earlier) declared.set(declaration.symbol, declaration);
  }
  for (const section of relocs.sections) {
    for (const other of elf.sections) {
      const target = other.info;
      if ((other.type !== SHT_RELA && other.type !== SHT_REL) || typeof target === 'number') continue;
      if (target === section || !(target.flags & SHF_ALLOC)) continue;
      if ((other.relocations ?? []).some((r) => r.symbol?.section === section)) {
        problems.push(
          `${target.name} refers to the KLP_MODULE_RELOC array in ${section.name}; klp-convert removes that array, so code and data must not use it`,
        );
      }
    }
  }
  const uses = collectUses(elf);
  // The KLP_MODULE_RELOC arrays' own relocations do not count as uses.
  for (const section of relocs.sections) {
    for (const entry of uses.values()) entry.alloc = entry.alloc.filter((u) => u.target !== section);
  }

  const exportOwner = (name: string): string | undefined => {
    const exported = context.exports?.get(name);
    if (exported) return moduleNameOf(exported.module);
    for (const module of modules.values()) if (module.exports.has(name)) return module.name;
    if (!context.exports && context.vmlinux?.has(`__ksymtab_${name}`)) return VMLINUX;
    return undefined;
  };
  const tableFor = (object: string): ObjectSymbols | undefined =>
    object === VMLINUX ? context.vmlinux : modules.get(object)?.table;
  const vmlinuxSource = context.vmlinuxSource ? ` (${context.vmlinuxSource})` : '';

  const decide = (symbol: ElfSymbol, declaration: SymposDeclaration | undefined): Decision => {
    const name = symbol.name;
    const used = () => usedIn(uses.get(symbol));
    if (declaration) {
      const { object, sympos, where } = declaration;
      const annotation = `KLP_SYMPOS(${name}, ${sympos}) in ${where}`;
      const table = tableFor(object);
      if (!table) {
        if (object !== VMLINUX && sympos === 0 && exportOwner(name) === object)
          return { kind: 'convert', object, sympos, reason: 'declared', candidates: undefined };
        const how =
          object === VMLINUX
            ? 'no vmlinux symbols were given (--vmlinux or --system-map)'
            : `module ${object} was not given (--target-module <path>/${object}.ko)`;
        return { kind: 'problem', text: `${annotation}: cannot check the position: ${how}` };
      }
      const result = resolveSympos(table, name, sympos);
      if (result.ok) return { kind: 'convert', object, sympos, reason: 'declared', candidates: result.count };
      const list = candidateLines(name, result.candidates);
      if (result.reason === 'missing')
        return {
          kind: 'problem',
          text: `${annotation}: ${object}${object === VMLINUX ? vmlinuxSource : ''} has no symbol ${name}`,
        };
      if (result.reason === 'ambiguous') {
        return {
          kind: 'problem',
          text: `${annotation}: position 0 needs a unique name, but ${object} has ${result.candidates.length} symbols named ${name}; use one of:\n${list}`,
        };
      }
      return {
        kind: 'problem',
        text: `${annotation}: ${object} has only ${result.candidates.length} symbol${result.candidates.length === 1 ? '' : 's'} named ${name}:\n${list}`,
      };
    }
    const owner = exportOwner(name);
    if (owner === VMLINUX) return { kind: 'export' };
    if (owner) {
      const table = tableFor(owner);
      if (!table)
        return { kind: 'convert', object: owner, sympos: 0, reason: 'module-export', candidates: undefined };
      const result = resolveSympos(table, name, 0);
      if (result.ok)
        return { kind: 'convert', object: owner, sympos: 0, reason: 'module-export', candidates: 1 };
      if (result.reason === 'missing') {
        return {
          kind: 'problem',
          text: `symbol ${name} (${used()}): Module.symvers says module ${owner} exports it, but ${modules.get(owner)?.path ?? owner} has no such symbol; is it the target's build of the module?`,
        };
      }
      return {
        kind: 'problem',
        text: `symbol ${name} (${used()}) is exported by module ${owner}, which has ${result.candidates.length} symbols of that name; declare the one you mean with KLP_MODULE_RELOC(${owner}):\n${candidateLines(name, result.candidates)}`,
      };
    }
    const hits: Array<{ object: string; table: ObjectSymbols; count: number }> = [];
    if (context.vmlinux?.has(name))
      hits.push({ object: VMLINUX, table: context.vmlinux, count: context.vmlinux.candidates(name).length });
    for (const module of modules.values()) {
      if (module.table.has(name))
        hits.push({ object: module.name, table: module.table, count: module.table.candidates(name).length });
    }
    if (hits.length === 0) {
      if (symbol.bind === STB_WEAK) return { kind: 'unresolved' };
      if (context.allowUnresolved) return { kind: 'unresolved' };
      const searched = [
        context.vmlinux ? `vmlinux${vmlinuxSource}` : undefined,
        ...[...modules.keys()].map((m) => `module ${m}`),
      ].filter((s) => s !== undefined);
      return {
        kind: 'problem',
        text: `symbol ${name} (${used()}) is not exported${context.exports ? ' (Module.symvers)' : ''} and not found in ${searched.length > 0 ? searched.join(', ') : 'any symbol table (none was given)'}`,
      };
    }
    if (hits.length > 1) {
      const lines = hits.map(
        (h) =>
          `      KLP_MODULE_RELOC(${h.object}): ${h.count} symbol${h.count === 1 ? '' : 's'} named ${name}`,
      );
      return {
        kind: 'problem',
        text: `symbol ${name} (${used()}) exists in more than one object; declare which with KLP_MODULE_RELOC(<object>) = { KLP_SYMPOS(${name}, N) }:\n${lines.join('\n')}`,
      };
    }
    const hit = hits[0]!;
    const result = resolveSympos(hit.table, name, 0);
    if (result.ok) return { kind: 'convert', object: hit.object, sympos: 0, reason: 'unique', candidates: 1 };
    return {
      kind: 'problem',
      text: `symbol ${name} (${used()}) is ambiguous: ${hit.object} has ${result.candidates.length} symbols of that name, and the kernel accepts position 0 only for a unique one; add the line for the one you mean to KLP_MODULE_RELOC(${hit.object}) = { ... }:\n${candidateLines(name, result.candidates)}`,
    };
  };

  const plans: Plan[] = [];
  const exportsKept: string[] = [];
  const unresolved: string[] = [];
  for (const symbol of elf.symbols) {
    if (!isUndefined(symbol)) continue;
    const declaration = declared.get(symbol);
    const symbolUses = uses.get(symbol);
    if (!declaration && (symbolUses?.alloc.length ?? 0) === 0) continue;
    const decision = decide(symbol, declaration);
    switch (decision.kind) {
      case 'problem':
        problems.push(decision.text);
        break;
      case 'export':
        exportsKept.push(symbol.name);
        break;
      case 'unresolved':
        unresolved.push(symbol.name);
        warnings.push(
          `${symbol.name}: found in no symbol table; left as ${symbol.bind === STB_WEAK ? 'a weak' : 'an undefined'} reference${symbol.bind === STB_WEAK ? '' : ' (the module will not load unless something exports it)'}`,
        );
        break;
      case 'convert': {
        const nameProblem = objectNameProblem(decision.object) ?? symbolNameProblem(symbol.name);
        if (nameProblem) {
          problems.push(`cannot write a livepatch symbol for ${symbol.name.slice(0, 60)}: ${nameProblem}`);
          break;
        }
        plans.push({
          symbol,
          name: symbol.name,
          object: decision.object,
          sympos: decision.sympos,
          reason: decision.reason,
          candidates: decision.candidates,
          declaredAt: declaration?.where,
        });
      }
    }
  }

  // Relocations the livepatch loader cannot write there, checked before anything changes.
  for (const plan of plans) {
    for (const use of uses.get(plan.symbol)?.alloc ?? []) {
      const at = `${use.target.name}+0x${use.relocation.offset.toString(16)}`;
      if (use.relocationSection.type !== SHT_RELA) {
        problems.push(`${plan.name} at ${at}: SHT_REL relocations cannot become livepatch relocations`);
      } else if (!KERNEL_RELOCATION_TYPES.has(use.relocation.type)) {
        problems.push(
          `${plan.name} at ${at}: relocation type ${relocationTypeName(elf.header.machine, use.relocation.type)} is not one the kernel's module loader applies`,
        );
      } else if (use.target.type === SHT_NOBITS) {
        problems.push(`${plan.name} at ${at}: the section has no data to relocate`);
      } else if (plan.object !== VMLINUX) {
        const why = moduleSpecificProblem(use.target);
        if (why) problems.push(`${plan.name} (module ${plan.object}) used in ${use.target.name}: ${why}`);
      }
    }
  }

  if (problems.length > 0) {
    const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
    throw new ConvertError(`${file}: cannot convert the module (${count}):\n  - ${problems.join('\n  - ')}`, {
      hint: 'declare positions with KLP_MODULE_RELOC(<object>) = { KLP_SYMPOS(<symbol>, <position>), }; from include/klp-module-reloc.h; give module targets with --target-module; --allow-unresolved leaves unknown symbols as they are',
    });
  }

  return applyPlans(elf, plans, uses, relocs.sections, {
    exportsKept,
    unresolved,
    warnings,
    stillNeeded: new Set(
      [...exportsKept, ...unresolved].map((n) => exportOwner(n)).filter((o): o is string => o !== undefined),
    ),
  });
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

function checkShape(elf: ElfFile, file: string): void {
  if (elf.partial) throw new ConvertError(`${file}: only the symbol table was read; cannot convert`);
  if (elf.header.type !== ET_REL) {
    throw new ConvertError(`${file}: not a relocatable object (e_type ${elf.header.type})`, {
      hint: 'give the .ko that kbuild built',
    });
  }
  if (elf.header.machine !== EM_X86_64) {
    throw new ConvertError(
      `${file}: e_machine ${elf.header.machine} is not x86_64; klp-convert supports x86_64 only`,
      {
        hint: 'other architectures encode relocation sites in instructions; their conversion is not implemented',
      },
    );
  }
  if (!elf.symtab)
    throw new ConvertError(`${file}: no symbol table`, {
      hint: 'do not strip the module before converting it',
    });
  if (modinfoValue(elf, 'livepatch') === undefined) {
    throw new ConvertError(
      `${file}: .modinfo has no livepatch= entry, so the kernel would not treat it as a livepatch`,
      {
        hint: 'add MODULE_INFO(livepatch, "Y"); to the module source',
      },
    );
  }
}

interface Extras {
  exportsKept: string[];
  unresolved: string[];
  warnings: string[];
  /** Modules whose exports are still used by normal relocations. */
  stillNeeded: ReadonlySet<string>;
}

function applyPlans(
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
