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

/**
 * kpatch-build's module name rule: characters other than [A-Za-z0-9_-] become '-', at most 55
 * characters; by default `livepatch-<first patch's basename without extension>`.
 */
export function livepatchModuleName(patches: readonly string[], explicit?: string): string {
  const raw = explicit ?? `livepatch-${basename(patches[0] ?? 'patch').replace(/\.(patch|diff)$/, '')}`;
  const name = raw.replaceAll(/[^A-Za-z0-9_-]/g, '-').slice(0, MAX_MODULE_NAME);
  if (name === '') throw new UsageError('the module name is empty', { hint: 'pass -n NAME' });
  return name;
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
