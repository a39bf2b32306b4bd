/**
 * The interface every distro adapter offers (Debian, Ubuntu, Fedora, and the RHEL family): parse a
 * release, say where its files come from and how they are verified, prepare its source tree in the
 * cache, and say how that tree is made ready for kbuild (a recipe the one prepareForKbuild runs). Distro
 * facts (URL patterns, package names, paths, release regexes) live in distro/<id>.json.
 */
import type { Toolchain } from '../kbuild/toolchain.js';
import type { PackageProgress } from '../source/fetch-packages.js';
import type { KbuildRecipe } from './prepare-for-kbuild.js';

/** os-release IDs whose adapter is made from distro/<id>.json's common shape (adapter-data.ts). */
export const ADAPTER_DISTROS = ['ubuntu', 'fedora', 'centos', 'almalinux', 'rocky', 'ol'] as const;
export type AdapterDistro = (typeof ADAPTER_DISTROS)[number];
/** Every os-release ID with an adapter: Debian's (its archive client and suites) and the data-made ones. */
export const DISTRO_IDS = ['debian', ...ADAPTER_DISTROS] as const;
export type DistroId = (typeof DISTRO_IDS)[number];

export interface ParsedRelease {
  /** e.g. "5.15.0-91-generic", "6.5.6-300.fc39.x86_64". */
  release: string;
  /** Named groups of the distro's release pattern (kver, abi, flavour / version, rel, arch, major, …). */
  parts: Readonly<Record<string, string>>;
}

/** How an artifact's bytes are checked after download. */
export type Verification =
  /** SHA256 + size from the .dsc's Checksums-Sha256 (itself from the Sources index). */
  | 'dsc'
  /** SHA256 + size from a Packages/Sources index, listed in the suite's InRelease. */
  | 'apt-index'
  /** SHA256 + size from repodata primary.xml, listed in repomd.xml. */
  | 'repodata'
  /** Only the RPM's own header and payload digests (integrity, not authenticity). */
  | 'rpm-digests';

export interface Artifact {
  /** What it is for: "dsc", "orig", "diff", "srpm", "headers", "modules", "devel", "core", … */
  role: string;
  /** File name in the cache. */
  fileName: string;
  url: string;
  sha256?: string;
  size?: number;
  verification: Verification;
  /** Some releases do not have it: a 404 (or no repository listing it) skips it instead of failing. */
  optional?: boolean;
}

export interface ResolvedArtifacts {
  distro: DistroId;
  release: string;
  /** Distro package version, e.g. "5.15.0-91.101" or "6.5.6-300.fc39". */
  packageVersion: string;
  /** Source package files (.dsc and parts, or the SRPM). */
  source: Artifact[];
  /** Binary packages config/Module.symvers/System.map are taken from. */
  binaries: Artifact[];
}

export interface ResolveOptions {
  /** Replaces every base URL of the distro's data (also KPATCH_MIRROR_<ID>). */
  mirror?: string;
  cacheDir?: string;
  signal?: AbortSignal;
  /** Base delay between download retries (tests make it short). */
  retryDelayMs?: number;
}

/** Phases of prepareSource: the target's files, the source package's download, its unpacking. */
export type PreparePhase = 'target' | 'fetch' | 'unpack';

export interface PrepareDistroOptions extends ResolveOptions {
  /**
   * A local source package to use instead of downloading the release's (kpatch-build -r SRPM): checked
   * by its own digests and against the release's name and version.
   */
  sourcePackage?: string;
  onProgress?: (message: string) => void;
  /** Byte progress of each download (each file numbered as a package in the order its download began). */
  onDownload?: (progress: PackageProgress) => void;
  /** Wall time of each preparation phase that ran, for the build's timings. */
  onPhase?: (phase: PreparePhase, ms: number) => void;
}

export interface PreparedDistroSource {
  distro: DistroId;
  /** The release itself (Debian's "latest" resolved). */
  release: string;
  packageVersion: string;
  /** The source tree: distro patches applied, `.config` in place, `make -s kernelrelease` = release. */
  tree: string;
  /** The target's config (the recipe writes <tree>/.config from it). */
  config: string;
  moduleSymvers: string;
  /** vmlinux's symbols: the target's System.map, or (Debian) its /proc/kallsyms read in a VM (same format). */
  systemMap: string;
  /**
   * A headers package made for `make -C DIR M=...` builds (Debian's), used for the livepatch module when
   * the host compiles (buildsModuleInTree); absent: the module is built in the tree.
   */
  headersDir?: string;
  /** The bootable image (Fedora: kernel-core's lib/modules/<release>/vmlinuz), when the data names it. */
  image?: string;
  /** The target's lib/modules/<release> (its modules, maybe compressed), when the data names their packages. */
  modulesDir?: string;
  /**
   * Lines the distro's headers package adds to include/generated/utsrelease.h after the build (Ubuntu:
   * "#define UTS_UBUNTU_RELEASE_ABI 91"). Append them (`appendUtsDefines`) after the last `make` that
   * regenerates utsrelease.h and before building the livepatch module, as kpatch-build does.
   */
  utsDefines: string[];
  /** What was verified, per downloaded file. */
  verified: Record<string, string>;
  /** True when this call found everything prepared already (no network). */
  cached: boolean;
}

/** How the prepared tree will be used: the toolchain that compiles in it, where the module is built. */
export interface KbuildHow {
  toolchain: Toolchain;
  /** The livepatch module is built in the tree (buildsModuleInTree). */
  modulesInTree: boolean;
}

export interface ToolchainOptions {
  cacheDir?: string;
  /** Compile with the host's compiler even when it is not the kernel's. */
  skipCompilerCheck?: boolean;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** Why the target compiles somewhere else than the host, for people. */
  onNote?: (message: string) => void;
}

export interface DistroAdapter {
  readonly id: DistroId;
  /** Names the distro in messages: "Debian", "CentOS Stream", … */
  readonly name: string;
  readonly description: string;
  /** Throws DistroError (with a hint showing the expected form) for a release of another shape. */
  parseRelease(release: string): ParsedRelease;
  /** Where each file comes from and what it must hash to (may read indexes from the mirror). */
  resolveArtifacts(release: string, options?: ResolveOptions): Promise<ResolvedArtifacts>;
  /** Fetches, verifies and unpacks the release's source tree (and the target's files) once; later calls are cached. */
  prepareSource(release: string, options?: PrepareDistroOptions): Promise<PreparedDistroSource>;
  /** Where the target's objects are compiled (Debian: a build root of its suite when the host lacks the compiler); absent: the host. */
  toolchain?(source: PreparedDistroSource, options: ToolchainOptions): Promise<Toolchain>;
  /** What prepareForKbuild does to the tree: files, make targets, stamp, lock. */
  kbuildRecipe(source: PreparedDistroSource, how: KbuildHow): Promise<KbuildRecipe>;
  /** vmlinux functions the kernel seals at boot (IBT), which a livepatch may not take the address of; absent: none. */
  sealedFunctions?(
    source: PreparedDistroSource,
    options: { signal?: AbortSignal; onProgress?: (message: string) => void },
  ): Promise<ReadonlySet<string> | undefined>;
}
