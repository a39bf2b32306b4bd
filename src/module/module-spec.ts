import { basename } from 'node:path';
import { UsageError } from '../errors.js';

/** A function the livepatch replaces. */
export interface ReplacedFunction {
  /** Its name in the running kernel. */
  oldName: string;
  /** Position among same-named symbols of the object; 0 when the name is unique. */
  oldSympos: number;
  /** Global symbol, defined in one of the linked objects, that holds the new code. */
  newSymbol: string;
}

/** A non-exported symbol the new code references; klp-convert turns its relocations into klp ones. */
export interface KlpReference {
  symbol: string;
  sympos: number;
}

/** Symbols of `int fn(struct klp_object *)` / `void fn(struct klp_object *)` callbacks. */
export interface ObjectCallbacks {
  prePatch?: string;
  postPatch?: string;
  preUnpatch?: string;
  postUnpatch?: string;
}

export interface PatchedObject {
  /** "vmlinux" or the target module's name ('_' for '-'). */
  name: string;
  functions: ReplacedFunction[];
  references: KlpReference[];
  callbacks?: ObjectCallbacks;
}

export interface LivepatchModuleSpec {
  /** Module file name without .ko; the kernel's name for it has '_' for '-'. */
  name: string;
  /** Atomic replace: this patch replaces every livepatch loaded before it. */
  replace: boolean;
  objects: PatchedObject[];
  /** Relocatable objects with the new code (create-diff-object output), linked into the module. */
  linkedObjects: string[];
  description?: string;
}

/** The kernel parses livepatch object and symbol names with %55[^.] and %511[^,]. */
export const MAX_MODULE_NAME = 55;

const MODULE_NAME_CHARS = /^[A-Za-z0-9_-]+$/;

/** The name kpatch-build would derive from the first patch: `livepatch-<basename without extension>`. */
function defaultModuleName(patches: readonly string[]): string {
  const raw = `livepatch-${basename(patches[0] ?? 'patch').replace(/\.(patch|diff)$/, '')}`;
  return raw.replaceAll(/[^A-Za-z0-9_-]/g, '-');
}

/**
 * kpatch-build's module name: [A-Za-z0-9_-], at most 55 characters (the kernel parses livepatch object
 * names with %55[^.]). An explicit -n NAME is used as given or refused, never rewritten; the default
 * `livepatch-<first patch>` has other characters replaced by '-' (the CLI reports that) and is refused,
 * not cut, when too long: two cut names could collide.
 */
export function livepatchModuleName(patches: readonly string[], explicit?: string): string {
  const name = explicit ?? defaultModuleName(patches);
  const what = explicit === undefined ? `the module name derived from ${patches[0]}` : '-n/--name';
  if (name === '') throw new UsageError('the module name is empty', { hint: 'pass -n NAME' });
  if (!MODULE_NAME_CHARS.test(name)) {
    throw new UsageError(`${what} "${name}": a module name holds only letters, digits, '_' and '-'`, {
      hint: `e.g. -n ${name.replaceAll(/[^A-Za-z0-9_-]/g, '-')}`,
    });
  }
  if (name.length > MAX_MODULE_NAME) {
    throw new UsageError(
      `${what} "${name}" has ${name.length} characters; the kernel allows at most ${MAX_MODULE_NAME}`,
      { hint: `pass a shorter -n NAME (e.g. -n ${name.slice(0, 40)})` },
    );
  }
  return name;
}

/** Why the default name differs from the patch file's name, when it does (the CLI says so). */
export function renamedDefaultNote(patches: readonly string[], explicit?: string): string | undefined {
  if (explicit !== undefined) return undefined;
  const raw = `livepatch-${basename(patches[0] ?? 'patch').replace(/\.(patch|diff)$/, '')}`;
  const name = defaultModuleName(patches);
  return raw === name
    ? undefined
    : `module name ${name} (from ${patches[0]}: characters other than [A-Za-z0-9_-] became '-'; -n NAME chooses another)`;
}

const C_SYMBOL = /^[A-Za-z_.$][A-Za-z0-9_.$]*$/;

/** Refuses specs the generated C or the kernel could not take, naming the offending entry. */
export function validateModuleSpec(spec: LivepatchModuleSpec): void {
  if (!/^[A-Za-z0-9_-]{1,55}$/.test(spec.name)) {
    throw new UsageError(`module name "${spec.name}" must be 1-55 characters of [A-Za-z0-9_-]`);
  }
  if (spec.objects.length === 0 || spec.objects.every((o) => o.functions.length === 0)) {
    throw new UsageError(`livepatch ${spec.name} replaces no function`, { hint: 'nothing to patch' });
  }
  const seen = new Set<string>();
  for (const object of spec.objects) {
    if (!/^[A-Za-z0-9_]{1,55}$/.test(object.name)) {
      throw new UsageError(`object name "${object.name}" is not a kernel module name`, {
        hint: "use vmlinux or the module's name with '_' for '-'",
      });
    }
    if (seen.has(object.name)) throw new UsageError(`object ${object.name} is listed twice`);
    seen.add(object.name);
    const symbols = [
      ...object.functions.flatMap((f) => [f.newSymbol]),
      ...object.references.map((r) => r.symbol),
      ...Object.values(object.callbacks ?? {}),
    ];
    for (const symbol of symbols) {
      if (!C_SYMBOL.test(symbol) || symbol.length > 511) {
        throw new UsageError(`${object.name}: symbol name "${symbol}" cannot be used in a livepatch`);
      }
    }
    for (const f of [...object.functions, ...object.references]) {
      const pos = 'oldSympos' in f ? f.oldSympos : f.sympos;
      if (!Number.isInteger(pos) || pos < 0) throw new UsageError(`${object.name}: bad sympos ${pos}`);
    }
  }
}
