import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PatchError, UnsupportedChangeError } from '../errors.js';
import { buildSingleObjects } from '../kbuild/build-single-objects.js';
import type { ObjectParent } from '../kbuild/object-parent.js';
import { moduleNameFromPath } from '../kbuild/object-parent.js';
import type { TreeBuildOptions, TreeBuildResult } from './build-from-tree.js';
import { buildFromTree } from './build-from-tree.js';

/** A distro kernel's source tree, prepared (configured, `make prepare` done) but never built. */
export interface PreparedSource {
  /** Names the target in messages, e.g. "Fedora kernel 6.5.6-300.fc39.x86_64". */
  label: string;
  /** The prepared tree: the touched objects are compiled here. */
  tree: string;
  /** Its .config (the target's). */
  config: string;
  /** vmlinux's symbols: a /proc/kallsyms dump or the target's System.map (same line format). */
  symbols: string;
  /** The target's Module.symvers (CRCs of exported symbols). */
  moduleSymvers: string;
  /** Where `make -C DIR M=...` builds the livepatch module: a headers package, or the tree itself. */
  moduleBuildDir: string;
  /**
   * The target's lib/modules/<release> (modules.order and the .ko files): objects of loadable modules can
   * be patched only when it is known.
   */
  modulesDir?: string;
  /** The target's bootable image, for --verify. */
  image?: string;
  /** The vermagic of the target's own modules; undefined skips the check (modules not fetched). */
  vermagic?: string;
}

export type PreparedBuildOptions = Omit<TreeBuildOptions, 'sourceDir' | 'config' | 'vmlinux' | 'distro'>;

/** The target's modules by the name the kernel knows them ('-' as '_'), from its modules.order. */
function readModuleFiles(modulesDir: string): Map<string, string> {
  const files = new Map<string, string>();
  const order = readFileSync(join(modulesDir, 'modules.order'), 'utf8');
  for (const line of order.split('\n')) {
    const path = line.trim();
    if (path !== '') files.set(moduleNameFromPath(path), join(modulesDir, path));
  }
  return files;
}

/**
 * kbuild compiles objects that go into a module with -DMODULE and -DKBUILD_MODNAME: that is how a
 * single object in a prepared (never fully built) tree tells where it belongs. A module's symbols
 * (for sympos) come from the target's own .ko.
 */
function parentFromCmdFile(
  prepared: PreparedSource,
  target: string,
  moduleFiles: () => Map<string, string>,
): ObjectParent {
  const cmd = readFileSync(join(prepared.tree, dirname(target), `.${basename(target)}.cmd`), 'utf8');
  if (!/\s-DMODULE\b/.test(cmd)) return { kind: 'vmlinux', name: 'vmlinux', via: [] };
  const name = /-DKBUILD_MODNAME=\W*([A-Za-z0-9_-]+)/.exec(cmd)?.[1]?.replaceAll('-', '_');
  if (!prepared.modulesDir) {
    throw new UnsupportedChangeError(
      `${target} is built for a module${name ? ` (${name})` : ''}; the modules of ${prepared.label} are not fetched`,
      { hint: 'only changes to vmlinux can be patched for this distro today' },
    );
  }
  const path = name ? moduleFiles().get(name) : undefined;
  if (!name || !path) {
    throw new UnsupportedChangeError(
      `${target} is built for a module${name ? ` (${name})` : ''} the target kernel does not ship`,
      { hint: "only modules listed in the target's modules.order can be patched" },
    );
  }
  return { kind: 'module', name, path, via: [] };
}

/**
 * A livepatch for a distro kernel from its prepared source, without building the kernel: kbuild compiles
 * just the objects the patch touches (recording their commands), vmlinux's symbols come from the target's
 * kallsyms or System.map, and the module is built in `moduleBuildDir` against the target's Module.symvers.
 */
export async function buildForPreparedSource(
  prepared: PreparedSource,
  options: PreparedBuildOptions,
): Promise<TreeBuildResult> {
  let modules: Map<string, string> | undefined;
  const moduleFiles = () => {
    modules ??= readModuleFiles(prepared.modulesDir ?? '');
    return modules;
  };
  return buildFromTree({
    ...options,
    sourceDir: prepared.tree,
    config: prepared.config,
    distro: {
      kallsyms: prepared.symbols,
      moduleSymvers: prepared.moduleSymvers,
      moduleBuildDir: prepared.moduleBuildDir,
      ...(prepared.vermagic ? { vermagic: prepared.vermagic } : {}),
      buildTouchedObjects: async (touched) => {
        const headers = touched.filter((file) => !file.endsWith('.c'));
        if (headers.length > 0) {
          throw new PatchError(`the patch changes ${headers.join(', ')}, not only .c files`, {
            hint: 'finding every object a header reaches needs a full kernel build; not supported for distro kernels yet',
          });
        }
        await buildSingleObjects(
          prepared.tree,
          touched.map((file) => file.replace(/\.c$/, '.o')),
          {
            logFile: join(prepared.tree, '.kpatch-build-objects.log'),
            ...(options.jobs ? { jobs: options.jobs } : {}),
            ...(options.onCommand ? { onCommand: options.onCommand } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
          },
        );
      },
      parentOf: (object) => parentFromCmdFile(prepared, object, moduleFiles),
      ...(prepared.image ? { image: prepared.image } : {}),
    },
  });
}
