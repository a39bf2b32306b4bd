/**
 * Where each object belongs, by the target's ParentRule: kbuild's link records, the object's own compile
 * flags, or link records with the target's shipped module as a module object's parent. An external
 * module's objects all belong to it.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { findTargetModules, uncompressedModule } from '../../distro/target-modules.js';
import { UnsupportedChangeError } from '../../errors.js';
import type { KbuildIndex } from '../../kbuild/kbuild-index.js';
import type { ObjectParent, ParentResolver } from '../../kbuild/object-parent.js';
import { createParentResolver } from '../../kbuild/object-parent.js';
import type { OotModule } from '../build-run.js';
import type { BuildTarget } from '../build-target.js';

/** Where compressed modules of the target are kept decompressed (beside its modules, in the cache). */
export const uncompressedDir = (modulesDir: string) => `${modulesDir}.uncompressed`;

/** True when the object's recorded compile is kbuild's for a module (-DMODULE). */
export const isModuleCompile = (cmd: string) => /\s-DMODULE\b/.test(cmd);

/** The module's name from -DKBUILD_MODNAME, as the kernel knows it ('-' as '_'). */
export const modnameOf = (cmd: string) =>
  /-DKBUILD_MODNAME=\W*([A-Za-z0-9_-]+)/.exec(cmd)?.[1]?.replaceAll('-', '_');

/** The target's shipped copy of module `name` as a parent; refused when the target's modules are unknown. */
function shippedModule(
  target: BuildTarget,
  object: string,
  name: string | undefined,
  moduleFiles: () => Map<string, string>,
): ObjectParent {
  if (!target.modulesDir) {
    throw new UnsupportedChangeError(
      `${object} is built for a module${name ? ` (${name})` : ''}; the modules of ${target.label} are not fetched`,
      { hint: 'only changes to vmlinux can be patched for this distro today' },
    );
  }
  const path = name ? moduleFiles().get(name) : undefined;
  if (!name || !path) {
    throw new UnsupportedChangeError(
      `${object} is built for a module${name ? ` (${name})` : ''} the target kernel does not ship`,
      { hint: `only modules the target ships (under ${target.modulesDir}) can be patched` },
    );
  }
  return {
    kind: 'module',
    name,
    path: uncompressedModule(path, uncompressedDir(target.modulesDir)),
    via: [],
  };
}

/**
 * kbuild compiles objects that go into a module with -DMODULE and -DKBUILD_MODNAME: that is how a single
 * object in a prepared (never fully built) tree tells where it belongs.
 */
function parentFromCompileFlags(
  target: BuildTarget,
  object: string,
  moduleFiles: () => Map<string, string>,
): ObjectParent {
  const cmd = readFileSync(join(target.tree, dirname(object), `.${basename(object)}.cmd`), 'utf8');
  if (!isModuleCompile(cmd)) return { kind: 'vmlinux', name: 'vmlinux', via: [] };
  return shippedModule(target, object, modnameOf(cmd), moduleFiles);
}

/** The resolver for the target's rule (or the external module's). */
export async function resolveParents(
  target: BuildTarget,
  index: KbuildIndex,
  oot: OotModule | undefined,
): Promise<ParentResolver> {
  if (oot)
    return { parentOf: () => ({ kind: 'module', name: oot.name, path: oot.ko, via: [] }), modules: [] };
  let modules: Map<string, string> | undefined;
  const moduleFiles = () => {
    modules ??= findTargetModules(target.modulesDir ?? '');
    return modules;
  };
  if (target.parents === 'compile-flags') {
    return { parentOf: (object) => parentFromCompileFlags(target, object, moduleFiles), modules: [] };
  }
  const linked = await createParentResolver(index);
  if (target.parents === 'linked') return linked;
  // In a module by kbuild's records: the target's own copy of that module is the parent.
  return {
    parentOf: (object) => {
      const parent = linked.parentOf(object);
      return parent.kind === 'module' ? parentFromCompileFlags(target, object, moduleFiles) : parent;
    },
    modules: [],
  };
}
