/**
 * A distro kernel's source tree, prepared (configured, `make prepare` done) but never built, as a target:
 * kbuild compiles just the objects the patch touches (recording their commands), vmlinux's symbols come
 * from the target's kallsyms or System.map, and the module is built in `moduleBuildDir` against the
 * target's Module.symvers. With --full-build the tree is built once (cached) and kbuild's records place
 * every object.
 */
import { findTargetModules, targetVermagic } from '../distro/target-modules.js';
import type { Toolchain } from '../kbuild/toolchain.js';
import type { BuildContext } from './build-context.js';
import { runStep } from './build-events.js';
import type { BuildTarget } from './build-target.js';
import { buildPreparedTree, isFullyBuilt } from './full-build-prepared.js';
import { uncompressedDir } from './steps/object-parents.js';

/** What every distro's source preparation yields (Debian, Ubuntu, Fedora, the RHEL family). */
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
  utsDefines?: readonly string[];
  /** vmlinux functions the kernel seals at boot (IBT kernels): the livepatch may not take their address. */
  sealedFunctions?: ReadonlySet<string>;
}

export interface FullBuildSpec {
  fullBuild?: boolean;
  /** make targets for --full-build (kpatch-build -t); default all. */
  buildTargets?: readonly string[];
}

export async function preparedTarget(
  prepared: PreparedSource,
  spec: FullBuildSpec,
  toolchain: Toolchain,
  ctx: BuildContext,
): Promise<BuildTarget> {
  if (spec.fullBuild) {
    await runStep(ctx.emit, 'full build', async () => {
      ctx.emit({ kind: 'phase', message: `Building ${prepared.label} (--full-build, once per release)` });
      const built = await buildPreparedTree(prepared.tree, {
        moduleSymvers: prepared.moduleSymvers,
        ...(spec.buildTargets && spec.buildTargets.length > 0 ? { targets: spec.buildTargets } : {}),
        jobs: ctx.jobs,
        make: toolchain.make,
        signal: ctx.signal,
        onCommand: ctx.onCommand,
      });
      if (!built) ctx.emit({ kind: 'note', message: `${prepared.label} is built already (cached)` });
    });
  }
  // A built tree has kbuild's record of every object and what it includes: nothing to compile first.
  const fullyBuilt = await isFullyBuilt(prepared.tree);
  // Without the target's modules there is nothing to check the vermagic against.
  const vermagic = prepared.modulesDir
    ? await targetVermagic(findTargetModules(prepared.modulesDir), uncompressedDir(prepared.modulesDir))
    : undefined;
  return {
    label: prepared.label,
    tree: prepared.tree,
    config: prepared.config,
    symbols: { format: 'kallsyms', path: prepared.symbols },
    moduleSymvers: prepared.moduleSymvers,
    moduleBuildDir: prepared.moduleBuildDir,
    ...(vermagic ? { vermagic } : {}),
    ...(prepared.image ? { image: prepared.image } : {}),
    ...(prepared.modulesDir ? { modulesDir: prepared.modulesDir } : {}),
    parents: fullyBuilt ? 'linked-shipped' : 'compile-flags',
    touched: fullyBuilt ? 'recorded' : 'compile-single',
    utsDefines: prepared.utsDefines ?? [],
    ...(prepared.sealedFunctions ? { sealedFunctions: prepared.sealedFunctions } : {}),
    toolchain,
  };
}
