/** Every message klp-convert's passes give about symbols, declarations and relocation sites, worded here. */
import type { ElfSymbol } from '../elf/index.js';
import { STB_WEAK } from '../elf/index.js';
import type { ObjectSymbol } from '../symbols/resolve-sympos.js';
import type { SymbolUses } from './convert-types.js';
import type { SymposDeclaration } from './module-relocs.js';

function hex(address: bigint | undefined): string {
  return address === undefined ? '?'.padStart(16) : address.toString(16).padStart(16, '0');
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One line per candidate, with the annotation that selects it. */
export function candidateLines(name: string, candidates: readonly ObjectSymbol[]): string {
  return candidates
    .map((c, i) => {
      const where = c.file ? `  ${c.file}` : '';
      return `      KLP_SYMPOS(${name}, ${i + 1})  ${hex(c.address)} ${c.type ?? '?'}${where}`;
    })
    .join('\n');
}

export function usedIn(uses: SymbolUses | undefined): string {
  const names = [...new Set((uses?.alloc ?? []).map((u) => u.target.name))];
  if (names.length === 0) return 'not used outside its KLP_SYMPOS entry';
  const shown = names.slice(0, 3).join(', ');
  return `used in ${shown}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`;
}

// Declarations (KLP_MODULE_RELOC arrays).

export const declaredTwice = (earlier: SymposDeclaration, later: SymposDeclaration) =>
  `${later.symbol.name} is declared twice, differently: KLP_SYMPOS(${later.symbol.name}, ${earlier.sympos}) for ${earlier.object} in ${earlier.where} and KLP_SYMPOS(${later.symbol.name}, ${later.sympos}) for ${later.object} in ${later.where}`;

export const arrayReferenced = (user: string, array: string) =>
  `${user} refers to the KLP_MODULE_RELOC array in ${array}; klp-convert removes that array, so code and data must not use it`;

// A declared position.

export const declarationOf = (name: string, d: SymposDeclaration) =>
  `KLP_SYMPOS(${name}, ${d.sympos}) in ${d.where}`;

export const cannotCheckPosition = (annotation: string, object: string, isVmlinux: boolean) =>
  `${annotation}: cannot check the position: ${
    isVmlinux
      ? 'no vmlinux symbols were given (--vmlinux or --system-map)'
      : `module ${object} was not given (--target-module <path>/${object}.ko)`
  }`;

export const declaredMissing = (annotation: string, object: string, source: string, name: string) =>
  `${annotation}: ${object}${source} has no symbol ${name}`;

export const declaredNeedsUnique = (annotation: string, object: string, name: string, list: ObjectSymbol[]) =>
  `${annotation}: position 0 needs a unique name, but ${object} has ${list.length} symbols named ${name}; use one of:\n${candidateLines(name, list)}`;

export const declaredOutOfRange = (annotation: string, object: string, name: string, list: ObjectSymbol[]) =>
  `${annotation}: ${object} has only ${plural(list.length, 'symbol')} named ${name}:\n${candidateLines(name, list)}`;

// A symbol exported by a module.

export const exportMissing = (name: string, used: string, owner: string, path: string) =>
  `symbol ${name} (${used}): Module.symvers says module ${owner} exports it, but ${path} has no such symbol; is it the target's build of the module?`;

export const exportAmbiguous = (name: string, used: string, owner: string, list: ObjectSymbol[]) =>
  `symbol ${name} (${used}) is exported by module ${owner}, which has ${list.length} symbols of that name; declare the one you mean with KLP_MODULE_RELOC(${owner}):\n${candidateLines(name, list)}`;

// A symbol found by name.

export const notFound = (name: string, used: string, withSymvers: boolean, searched: string[]) =>
  `symbol ${name} (${used}) is not exported${withSymvers ? ' (Module.symvers)' : ''} and not found in ${searched.length > 0 ? searched.join(', ') : 'any symbol table (none was given)'}`;

export const inSeveralObjects = (
  name: string,
  used: string,
  hits: ReadonlyArray<{ object: string; count: number }>,
) =>
  `symbol ${name} (${used}) exists in more than one object; declare which with KLP_MODULE_RELOC(<object>) = { KLP_SYMPOS(${name}, N) }:\n${hits
    .map((h) => `      KLP_MODULE_RELOC(${h.object}): ${plural(h.count, 'symbol')} named ${name}`)
    .join('\n')}`;

export const ambiguousByName = (name: string, used: string, object: string, list: ObjectSymbol[]) =>
  `symbol ${name} (${used}) is ambiguous: ${object} has ${list.length} symbols of that name, and the kernel accepts position 0 only for a unique one; add the line for the one you mean to KLP_MODULE_RELOC(${object}) = { ... }:\n${candidateLines(name, list)}`;

export const leftUnresolved = (symbol: ElfSymbol) =>
  `${symbol.name}: found in no symbol table; left as ${symbol.bind === STB_WEAK ? 'a weak' : 'an undefined'} reference${symbol.bind === STB_WEAK ? '' : ' (the module will not load unless something exports it)'}`;

export const unwritableName = (name: string, problem: string) =>
  `cannot write a livepatch symbol for ${name.slice(0, 60)}: ${problem}`;

// Relocation sites.

export const relSite = (name: string, at: string) =>
  `${name} at ${at}: SHT_REL relocations cannot become livepatch relocations`;
export const unappliedType = (name: string, at: string, type: string) =>
  `${name} at ${at}: relocation type ${type} is not one the kernel's module loader applies`;
export const noDataSite = (name: string, at: string) =>
  `${name} at ${at}: the section has no data to relocate`;
export const moduleSpecificSite = (name: string, object: string, section: string, why: string) =>
  `${name} (module ${object}) used in ${section}: ${why}`;

// The verdict.

export const cannotConvert = (file: string, problems: readonly string[]) =>
  `${file}: cannot convert the module (${problems.length === 1 ? 'a problem' : `${problems.length} problems`}):\n  - ${problems.join('\n  - ')}`;

export const CANNOT_CONVERT_HINT =
  'declare positions with KLP_MODULE_RELOC(<object>) = { KLP_SYMPOS(<symbol>, <position>), }; from include/klp-module-reloc.h; give module targets with --target-module; --allow-unresolved leaves unknown symbols as they are';
