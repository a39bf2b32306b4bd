/**
 * The target value: everything the pipeline needs to know about the kernel a livepatch is built for,
 * resolved once before anything is built (by resolveTreeTarget for -s DIR, by resolveDistroTarget for a
 * distro release). Distro differences are data here, read by the steps; nothing is passed down as a
 * callback.
 */
import type { Toolchain } from '../kbuild/toolchain.js';

/** Where an object's parent (vmlinux, a module, or refused) is learnt. */
export type ParentRule =
  /** kbuild's link records of a built tree (built-in.a, modules.order): -s DIR. */
  | 'linked'
  /**
   * A prepared, never built tree: the object's compile flags (-DMODULE, -DKBUILD_MODNAME) name its module,
   * and the parent is the target's shipped copy of that module.
   */
  | 'compile-flags'
  /** A distro tree built with --full-build: link records, but a module parent is the target's shipped copy. */
  | 'linked-shipped';

/** How the objects a patch touches get their kbuild records (.cmd files). */
export type TouchedRecords =
  /** The tree was built: every object has one. */
  | 'recorded'
  /** A prepared tree: kbuild compiles just the touched .c files first; header changes are refused. */
  | 'compile-single';

export interface BuildTarget {
  /** Names the target in messages, e.g. "Debian kernel 6.1.0-56-amd64". */
  label: string;
  /** The kernel tree the objects are compiled in. */
  tree: string;
  /** Its .config. */
  config: string;
  /** vmlinux's symbols: an unstripped vmlinux, or a kallsyms dump / System.map (same line format). */
  symbols: { format: 'elf' | 'kallsyms'; path: string };
  /** The target's Module.symvers (CRCs of exported symbols). */
  moduleSymvers: string;
  /** Where `make -C DIR M=...` builds the livepatch module: the tree, or a headers package. */
  moduleBuildDir: string;
  /** The vermagic the livepatch must carry; the check is skipped when unknown. */
  vermagic?: string;
  /** The bootable image, for --verify. */
  image?: string;
  /** The target's lib/modules/<release> (its shipped modules), when known. */
  modulesDir?: string;
  parents: ParentRule;
  touched: TouchedRecords;
  /** Lines the distro's headers add to include/generated/utsrelease.h, appended before the module build. */
  utsDefines: readonly string[];
  /** vmlinux functions sealed at boot (IBT): a livepatch taking their address is refused. */
  sealedFunctions?: ReadonlySet<string>;
  /** Every make and compile for this target runs through it. */
  toolchain: Toolchain;
}
