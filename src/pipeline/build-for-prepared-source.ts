import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { appendUtsDefines } from '../distro/release-rules.js';
import { findTargetModules, targetVermagic, uncompressedModule } from '../distro/target-modules.js';
import { PatchError, UnsupportedChangeError } from '../errors.js';
import { buildSingleObjects } from '../kbuild/build-single-objects.js';
import type { ObjectParent } from '../kbuild/object-parent.js';
import type { TreeBuildOptions, TreeBuildResult } from './build-from-tree.js';
import { buildFromTree } from './build-from-tree.js';
import { buildPreparedTree, isFullyBuilt } from './full-build-prepared.js';

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
   * The target's lib/modules/<release> (its .ko files, compressed or not): objects of loadable modules can
   * be patched only when it is known, and the livepatch must carry the vermagic its modules carry.
   */
  modulesDir?: string;
  /** The target's bootable image, for --verify. */
  image?: string;
  /** Lines the distro's headers add to include/generated/utsrelease.h (Ubuntu), appended before the module build. */
  utsDefines?: string[];
}

export type PreparedBuildOptions = Omit<TreeBuildOptions, 'sourceDir' | 'config' | 'vmlinux' | 'distro'>;

/** Where compressed modules of the target are kept decompressed (beside its modules, in the cache). */
const uncompressedDir = (modulesDir: string) => `${modulesDir}.uncompressed`;

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
      { hint: `only modules the target ships (under ${prepared.modulesDir}) can be patched` },
    );
  }
  return {
    kind: 'module',
    name,
    path: uncompressedModule(path, uncompressedDir(prepared.modulesDir)),
    via: [],
  };
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
  const { fullBuild, buildTargets, ...rest } = options;
  let fullBuildMs: number | undefined;
  if (fullBuild) {
    options.onEvent?.({
      kind: 'phase',
      message: `Building ${prepared.label} (--full-build, once per release)`,
    });
    const started = performance.now();
    const built = await buildPreparedTree(prepared.tree, {
      moduleSymvers: prepared.moduleSymvers,
      ...(buildTargets && buildTargets.length > 0 ? { targets: buildTargets } : {}),
      ...(options.jobs ? { jobs: options.jobs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onCommand ? { onCommand: options.onCommand } : {}),
    });
    if (!built) options.onEvent?.({ kind: 'note', message: `${prepared.label} is built already (cached)` });
    fullBuildMs = Math.round(performance.now() - started);
  }
  // A built tree has kbuild's record of every object and what it includes: nothing to compile first.
  const fullyBuilt = await isFullyBuilt(prepared.tree);
  let modules: Map<string, string> | undefined;
  const moduleFiles = () => {
    modules ??= findTargetModules(prepared.modulesDir ?? '');
    return modules;
  };
  // Without the target's modules there is nothing to check the vermagic against.
  const vermagic = prepared.modulesDir
    ? await targetVermagic(moduleFiles(), uncompressedDir(prepared.modulesDir))
    : undefined;
  const result = await buildFromTree({
    ...rest,
    sourceDir: prepared.tree,
    config: prepared.config,
    distro: {
      kallsyms: prepared.symbols,
      moduleSymvers: prepared.moduleSymvers,
      moduleBuildDir: prepared.moduleBuildDir,
      ...(vermagic ? { vermagic } : {}),
      buildTouchedObjects: async (touched) => {
        if (fullyBuilt) return;
        const headers = touched.filter((file) => !file.endsWith('.c'));
        if (headers.length > 0) {
          throw new PatchError(`the patch changes ${headers.join(', ')}, not only .c files`, {
            hint:
              'finding every object a header reaches needs kbuild records of a full build: pass --full-build ' +
              `(builds ${prepared.label} once, in the cache; Debian's config takes about an hour on 2 cores)`,
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
      ...(fullyBuilt ? { linkedParents: true } : {}),
      // kbuild regenerated utsrelease.h for the single objects: the module sees it as the headers have it.
      ...(prepared.utsDefines?.length
        ? { beforeModuleBuild: () => appendUtsDefines(prepared.tree, prepared.utsDefines ?? []) }
        : {}),
      ...(prepared.image ? { image: prepared.image } : {}),
    },
  });
  return fullBuildMs === undefined
    ? result
    : { ...result, timings: { 'full build': fullBuildMs, ...result.timings } };
}
