/**
 * Which binary an object ends up in: vmlinux, a loadable module, or nothing a livepatch can reach
 * (boot code, the vDSO, host tools). Answered from kbuild's records instead of kpatch's grep through
 * .cmd files: modules.order names the modules, `<module>.mod` lists each module's objects, and the
 * link commands of built-in.a / lib.a / vmlinux.a (and composite objects) give archive membership.
 */
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { KbuildIndex } from './kbuild-index.js';

export type ObjectParent =
  | { kind: 'vmlinux'; name: 'vmlinux'; via: string[] }
  /** `name` is the module name as the kernel knows it ('-' turned into '_'); `path` the .ko. */
  | { kind: 'module'; name: string; path: string; via: string[] }
  | { kind: 'none'; via: string[] };

export interface ModuleRecord {
  /** Module name as the kernel knows it, e.g. "livepatch_sample". */
  name: string;
  /** e.g. "samples/livepatch/livepatch-sample.ko" */
  path: string;
  objects: string[];
}

export interface ParentResolver {
  parentOf(target: string): ObjectParent;
  modules: ModuleRecord[];
}

/** The kernel's name for a module file: basename without extension, '-' as '_' (like KBUILD_MODNAME). */
export function moduleNameFromPath(path: string): string {
  return posix
    .basename(path)
    .replace(/\.(ko|o)$/, '')
    .replaceAll('-', '_');
}

// Archives that are linked into vmlinux as a whole.
const VMLINUX_CONTAINERS = /(^|\/)(built-in\.a|lib\.a)$|^vmlinux(\.a|\.o)?$/;

// Objects scripts/link-vmlinux.sh adds to vmlinux itself, outside any archive.
const LINKED_BY_SCRIPT = new Set(['init/version-timestamp.o', '.vmlinux.export.o']);

/** Reads modules.order and the .mod files it implies. */
export async function readModuleRecords(root: string): Promise<ModuleRecord[]> {
  const order = await readFile(join(root, 'modules.order'), 'utf8').catch(() => '');
  const records: ModuleRecord[] = [];
  for (const line of order.split('\n')) {
    const entry = line.trim().replace(/^kernel\//, '');
    if (entry === '') continue;
    const stem = entry.replace(/\.(ko|o)$/, '');
    const mod = await readFile(join(root, `${stem}.mod`), 'utf8').catch(() => '');
    // 6.x: one object per word; older kernels put the .ko path first, which is skipped.
    const objects = mod.split(/\s+/).filter((w) => w.endsWith('.o'));
    records.push({
      name: moduleNameFromPath(stem),
      path: `${stem}.ko`,
      objects: objects.length > 0 ? objects : [`${stem}.o`],
    });
  }
  return records;
}

/** Builds a resolver over an index; reads modules.order and the .mod files once. */
export async function createParentResolver(index: KbuildIndex): Promise<ParentResolver> {
  const modules = await readModuleRecords(index.root);
  const moduleOfObject = new Map<string, ModuleRecord>();
  for (const record of modules) {
    moduleOfObject.set(`${record.path.slice(0, -3)}.o`, record);
    for (const object of record.objects) moduleOfObject.set(object, record);
  }
  const containers = new Map<string, string[]>();
  for (const [container, members] of index.members) {
    for (const member of members) {
      const list = containers.get(member);
      if (list) list.push(container);
      else containers.set(member, [container]);
    }
  }
  const parentOf = (target: string): ObjectParent => {
    // Breadth first up the membership graph; the first module or vmlinux archive found decides.
    const seen = new Set([target]);
    const queue: Array<{ node: string; via: string[] }> = [{ node: target, via: [] }];
    while (queue.length > 0) {
      const { node, via } = queue.shift()!;
      // A module's generated <name>.mod.o is linked into the same .ko.
      const module = moduleOfObject.get(node.endsWith('.mod.o') ? `${node.slice(0, -6)}.o` : node);
      if (module) return { kind: 'module', name: module.name, path: module.path, via };
      if ((node !== target && VMLINUX_CONTAINERS.test(node)) || LINKED_BY_SCRIPT.has(node))
        return { kind: 'vmlinux', name: 'vmlinux', via };
      for (const container of containers.get(node) ?? []) {
        if (seen.has(container)) continue;
        seen.add(container);
        queue.push({ node: container, via: [...via, container] });
      }
    }
    return { kind: 'none', via: [] };
  };
  return { parentOf, modules };
}
