/**
 * Pass: what becomes of one undefined symbol of the module — a pure function of the symbol, its
 * declaration (if any), its uses and what is known about the target. The rules, in kpatch's order:
 *  1. declared with KLP_SYMPOS: that object and position, checked against the object's symbols;
 *  2. exported by vmlinux: left as a normal relocation — unless only for named modules
 *     (EXPORT_SYMBOL_FOR_MODULES, as in 7.2: namespace "module:kvm,kvm-intel"), which the loader refuses a
 *     livepatch: such a symbol is treated as not exported (rule 4);
 *  3. exported by a module: converted (a livepatch must not depend on that module), position 0;
 *  4. otherwise found by name in exactly one object, uniquely: converted with position 0;
 *  5. found nowhere: a weak reference (or --allow-unresolved) stays as it is; anything else is a problem.
 */
import type { ElfSymbol } from '../elf/index.js';
import { STB_WEAK } from '../elf/index.js';
import type { ModuleSymbols } from '../symbols/module-symbols.js';
import { isExportForNamedModules, moduleNameOf } from '../symbols/parse-module-symvers.js';
import type { ObjectSymbols } from '../symbols/resolve-sympos.js';
import { resolveSympos } from '../symbols/resolve-sympos.js';
import {
  ambiguousByName,
  cannotCheckPosition,
  declarationOf,
  declaredMissing,
  declaredNeedsUnique,
  declaredOutOfRange,
  exportAmbiguous,
  exportMissing,
  inSeveralObjects,
  notFound,
  usedIn,
} from './convert-messages.js';
import type { ConvertContext, Decision, SymbolUses } from './convert-types.js';
import { VMLINUX } from './klp-names.js';
import type { SymposDeclaration } from './module-relocs.js';

/** What the rules look symbols up in: the convert context, with its lookups precomputed. */
export interface SymbolLookup {
  context: ConvertContext;
  modules: ReadonlyMap<string, ModuleSymbols>;
  /** " (<where vmlinux's symbols came from>)", or "". */
  vmlinuxSource: string;
}

export function symbolLookup(context: ConvertContext): SymbolLookup {
  return {
    context,
    modules: context.modules ?? new Map<string, ModuleSymbols>(),
    vmlinuxSource: context.vmlinuxSource ? ` (${context.vmlinuxSource})` : '',
  };
}

/** Who exports `name`: Module.symvers when given, else the given modules, else vmlinux's __ksymtab. */
export function exportOwner(lookup: SymbolLookup, name: string): string | undefined {
  const { context, modules } = lookup;
  const exported = context.exports?.get(name);
  // A livepatch is never one of the named modules: to it the symbol is not exported.
  if (exported && isExportForNamedModules(exported) && exported.module === VMLINUX) return undefined;
  if (exported) return moduleNameOf(exported.module);
  for (const module of modules.values()) if (module.exports.has(name)) return module.name;
  if (!context.exports && context.vmlinux?.has(`__ksymtab_${name}`)) return VMLINUX;
  return undefined;
}

const tableFor = (lookup: SymbolLookup, object: string): ObjectSymbols | undefined =>
  object === VMLINUX ? lookup.context.vmlinux : lookup.modules.get(object)?.table;

/** A module export declared at position 0 needs no symbol table: the export makes the name unique. */
const isUncheckableModuleExport = (lookup: SymbolLookup, object: string, name: string, sympos: number) =>
  object !== VMLINUX && sympos === 0 && exportOwner(lookup, name) === object;

/** Weak references, and everything under --allow-unresolved, may stay undefined. */
const mayStayUnresolved = (lookup: SymbolLookup, symbol: ElfSymbol) =>
  symbol.bind === STB_WEAK || lookup.context.allowUnresolved === true;

function resolveDeclared(lookup: SymbolLookup, name: string, declaration: SymposDeclaration): Decision {
  const { object, sympos } = declaration;
  const annotation = declarationOf(name, declaration);
  const table = tableFor(lookup, object);
  if (!table) {
    if (isUncheckableModuleExport(lookup, object, name, sympos))
      return { kind: 'convert', object, sympos, reason: 'declared', candidates: undefined };
    return { kind: 'problem', text: cannotCheckPosition(annotation, object, object === VMLINUX) };
  }
  const result = resolveSympos(table, name, sympos);
  if (result.ok) return { kind: 'convert', object, sympos, reason: 'declared', candidates: result.count };
  if (result.reason === 'missing') {
    const source = object === VMLINUX ? lookup.vmlinuxSource : '';
    return { kind: 'problem', text: declaredMissing(annotation, object, source, name) };
  }
  if (result.reason === 'ambiguous')
    return { kind: 'problem', text: declaredNeedsUnique(annotation, object, name, result.candidates) };
  return { kind: 'problem', text: declaredOutOfRange(annotation, object, name, result.candidates) };
}

function resolveModuleExport(lookup: SymbolLookup, name: string, owner: string, used: string): Decision {
  const table = tableFor(lookup, owner);
  if (!table)
    return { kind: 'convert', object: owner, sympos: 0, reason: 'module-export', candidates: undefined };
  const result = resolveSympos(table, name, 0);
  if (result.ok) return { kind: 'convert', object: owner, sympos: 0, reason: 'module-export', candidates: 1 };
  if (result.reason === 'missing') {
    const path = lookup.modules.get(owner)?.path ?? owner;
    return { kind: 'problem', text: exportMissing(name, used, owner, path) };
  }
  return { kind: 'problem', text: exportAmbiguous(name, used, owner, result.candidates) };
}

function resolveByName(lookup: SymbolLookup, symbol: ElfSymbol, used: string): Decision {
  const { context, modules } = lookup;
  const name = symbol.name;
  const hits: Array<{ object: string; table: ObjectSymbols; count: number }> = [];
  if (context.vmlinux?.has(name))
    hits.push({ object: VMLINUX, table: context.vmlinux, count: context.vmlinux.candidates(name).length });
  for (const module of modules.values()) {
    if (module.table.has(name))
      hits.push({ object: module.name, table: module.table, count: module.table.candidates(name).length });
  }
  if (hits.length === 0) {
    if (mayStayUnresolved(lookup, symbol)) return { kind: 'unresolved' };
    const searched = [
      context.vmlinux ? `vmlinux${lookup.vmlinuxSource}` : undefined,
      ...[...modules.keys()].map((m) => `module ${m}`),
    ].filter((s) => s !== undefined);
    return { kind: 'problem', text: notFound(name, used, context.exports !== undefined, searched) };
  }
  if (hits.length > 1) return { kind: 'problem', text: inSeveralObjects(name, used, hits) };
  const hit = hits[0]!;
  const result = resolveSympos(hit.table, name, 0);
  if (result.ok) return { kind: 'convert', object: hit.object, sympos: 0, reason: 'unique', candidates: 1 };
  return { kind: 'problem', text: ambiguousByName(name, used, hit.object, result.candidates) };
}

/** The decision for one undefined symbol (see the rules above). */
export function resolveSymbol(
  lookup: SymbolLookup,
  symbol: ElfSymbol,
  declaration: SymposDeclaration | undefined,
  uses: SymbolUses | undefined,
): Decision {
  if (declaration) return resolveDeclared(lookup, symbol.name, declaration);
  const owner = exportOwner(lookup, symbol.name);
  if (owner === VMLINUX) return { kind: 'export' };
  if (owner) return resolveModuleExport(lookup, symbol.name, owner, usedIn(uses));
  return resolveByName(lookup, symbol, usedIn(uses));
}
