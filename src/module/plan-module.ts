import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { findKpatchCallbacks } from '../diff/find-callbacks.js';
import type { ParentSymbols } from '../diff/parent-symbols.js';
import type { DiffReport } from '../diff/report.js';
import type { UntracedRedirect } from '../diff/traceable-callers.js';
import type { ElfFile } from '../elf/index.js';
import { addSymbol, readElfFile, STB_GLOBAL, STB_WEAK, STT_FUNC, writeElfFile } from '../elf/index.js';
import { UnsupportedChangeError } from '../errors.js';
import type { KlpReference, LivepatchModuleSpec, ObjectCallbacks, PatchedObject } from './module-spec.js';

/** One diffed object as the plan needs it (the pipeline's ChangedObject is one). */
export interface ChangedObject {
  pair: { object: { target: string; source: string }; patched: { output: string } };
  /** "vmlinux" or the module name. */
  parent: string;
  report: DiffReport;
  output: ElfFile;
  parentSymbols: ParentSymbols;
}

/** What one object contributes to the livepatch. */
export interface ObjectChanges {
  object: string;
  parent: string;
  changed: string[];
  added: string[];
  /** Changed functions ftrace cannot redirect: carried as copies, their callers patched instead. */
  untraced: UntracedRedirect[];
  /** What KPATCH_IGNORE_FUNCTION/SECTION made the differ ignore. */
  ignored: string[];
}

export interface ModulePlan {
  spec: LivepatchModuleSpec;
  /** Changed and new functions per object, for messages and --json. */
  changes: ObjectChanges[];
}

/**
 * Where a function of the running kernel sits among same-named symbols: 0 when unique, else its
 * position among them, picked by the source file its object was built from.
 */
export function functionSympos(
  symbols: ParentSymbols,
  name: string,
  sourceFile: string,
  object: string,
): number {
  const candidates = symbols.table.candidates(name);
  if (candidates.length === 1) return 0;
  const position = candidates.findIndex((c) => c.file === basename(sourceFile)) + 1;
  if (position > 0) return position;
  throw new UnsupportedChangeError(
    `${object}: cannot tell which of ${candidates.length} functions named ${name} in ${symbols.parent} is the patched one`,
    { hint: 'the parent symbol table has no source-file entry for it; pass the matching vmlinux with -v' },
  );
}

/** The diff outputs' own global definitions: references to them are resolved inside the module. */
function definedInModule(changed: readonly ChangedObject[]): Set<string> {
  const names = new Set<string>();
  for (const { output } of changed) {
    for (const s of output.symbols)
      if (s.section && (s.bind === STB_GLOBAL || s.bind === STB_WEAK)) names.add(s.name);
  }
  return names;
}

function referencesOf(entry: ChangedObject, inModule: Set<string>): KlpReference[] {
  const references: KlpReference[] = [];
  for (const ref of entry.report.externalReferences) {
    if (ref.exported || inModule.has(ref.name)) continue;
    if (ref.sympos === null) {
      const why =
        ref.candidates === 0 ? `no symbol of that name in ${entry.parent}` : `${ref.candidates} candidates`;
      throw new UnsupportedChangeError(`${entry.pair.object.target}: cannot resolve ${ref.name} (${why})`, {
        hint: 'the new code uses a symbol the running kernel does not have, or one it cannot tell apart',
      });
    }
    references.push({ symbol: ref.name, sympos: ref.sympos });
  }
  return references;
}

/**
 * Adds a global alias for a function of the diff output (most are `static`), so the generated C can
 * name it; returns the alias.
 */
function globalAlias(entry: ChangedObject, name: string, alias: string, hint: string): string {
  const symbol = entry.output.symbols.find((s) => s.name === name && s.section && s.type === STT_FUNC);
  if (!symbol?.section) {
    throw new UnsupportedChangeError(
      `${entry.pair.object.target}: function ${name} is missing from the diff output`,
      {
        hint,
      },
    );
  }
  addSymbol(entry.output, {
    name: alias,
    value: symbol.value,
    size: symbol.size,
    bind: STB_GLOBAL,
    type: STT_FUNC,
    section: symbol.section,
  });
  return alias;
}

/** Gives each KPATCH_*_CALLBACK function a global alias in the diff output and attaches it to the object. */
async function wireCallbacks(entry: ChangedObject, index: number, object: PatchedObject): Promise<void> {
  const target = entry.pair.object.target;
  const found = findKpatchCallbacks(await readElfFile(entry.pair.patched.output), target);
  for (const [key, name] of Object.entries(found) as Array<[keyof ObjectCallbacks, string]>) {
    if (object.callbacks?.[key]) {
      throw new UnsupportedChangeError(`${target}: a second ${key} callback for ${object.name}`, {
        hint: 'a livepatch object takes one callback of each kind; call the others from one function',
      });
    }
    const alias = globalAlias(
      entry,
      name,
      `klp.callback.${index}.${name}`,
      'a callback must be a function the patch adds',
    );
    object.callbacks = { ...object.callbacks, [key]: alias };
  }
}

/**
 * Turns the diff results into the module spec: one klp_object per parent, a klp_func per changed
 * function, and a KLP_MODULE_RELOC entry per non-exported symbol the new code uses. Each changed
 * function gets a global alias in its diff output (most are `static`), and the outputs are written to
 * `workDir` for linking.
 */
export async function planModule(
  changed: readonly ChangedObject[],
  options: { name: string; replace: boolean; workDir: string },
): Promise<ModulePlan> {
  await mkdir(options.workDir, { recursive: true });
  const inModule = definedInModule(changed);
  const objects = new Map<string, PatchedObject>();
  const referenceOwners = new Map<string, { sympos: number; object: string }>();
  const linkedObjects: string[] = [];
  const changes: ModulePlan['changes'] = [];
  for (const [index, entry] of changed.entries()) {
    const target = entry.pair.object.target;
    let object = objects.get(entry.parent);
    if (!object) {
      object = { name: entry.parent, functions: [], references: [] };
      objects.set(entry.parent, object);
    }
    for (const name of entry.report.changedFunctions) {
      const alias = globalAlias(
        entry,
        name,
        `klp.new.${index}.${name}`,
        'create-diff-object reported it changed',
      );
      const oldSympos =
        entry.report.nearestSympos[name] ??
        functionSympos(entry.parentSymbols, name, entry.pair.object.source, target);
      object.functions.push({ oldName: name, oldSympos, newSymbol: alias });
    }
    await wireCallbacks(entry, index, object);
    for (const ref of referencesOf(entry, inModule)) {
      // After linking, same-named undefined symbols of two objects are one symbol: they must agree.
      const owner = referenceOwners.get(ref.symbol);
      if (owner && owner.sympos !== ref.sympos) {
        throw new UnsupportedChangeError(
          `${target} and ${owner.object} use different symbols named ${ref.symbol} (positions ${ref.sympos} and ${owner.sympos})`,
          { hint: 'split the patch so each livepatch touches one of those files' },
        );
      }
      if (!owner) {
        referenceOwners.set(ref.symbol, { sympos: ref.sympos, object: target });
        object.references.push(ref);
      }
    }
    const file = join(options.workDir, `${index}-${basename(target)}`);
    await writeElfFile(file, entry.output);
    linkedObjects.push(file);
    changes.push({
      object: target,
      parent: entry.parent,
      changed: entry.report.changedFunctions,
      added: entry.report.newFunctions,
      untraced: entry.report.untracedFunctions,
      ignored: entry.report.ignored,
    });
  }
  const spec: LivepatchModuleSpec = {
    name: options.name,
    replace: options.replace,
    objects: [...objects.values()].filter((o) => o.functions.length > 0 || o.references.length > 0),
    linkedObjects,
  };
  return { spec, changes };
}
