/**
 * The interface every non-Debian distro adapter offers (Ubuntu, Fedora, and the RHEL family): parse a
 * release, say where its files come from and how they are verified, and prepare its source tree in the
 * cache. Distro facts (URL patterns, package names, paths, release regexes) live in distro/<id>.json.
 */
import type { DownloadProgress } from '../source/download.js';

/** os-release IDs with an adapter. */
export const ADAPTER_DISTROS = ['ubuntu', 'fedora', 'centos', 'almalinux', 'rocky', 'ol'] as const;
export type AdapterDistro = (typeof ADAPTER_DISTROS)[number];

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
  distro: AdapterDistro;
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

export interface PrepareDistroOptions extends ResolveOptions {
  /**
   * A local source package to use instead of downloading the release's (kpatch-build -r SRPM): checked
   * by its own digests and against the release's name and version.
   */
  sourcePackage?: string;
  onProgress?: (message: string) => void;
  onDownload?: (file: string, progress: DownloadProgress) => void;
}

export interface PreparedDistroSource {
  distro: AdapterDistro;
  release: string;
  packageVersion: string;
  /** The source tree: distro patches applied, `.config` in place, `make -s kernelrelease` = release. */
  tree: string;
  /** The target's config (also copied to <tree>/.config). */
  config: string;
  moduleSymvers: string;
  systemMap: string;
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

export interface DistroAdapter {
  readonly id: AdapterDistro;
  readonly description: string;
  /** Throws DistroError (with a hint showing the expected form) for a release of another shape. */
  parseRelease(release: string): ParsedRelease;
  /** Where each file comes from and what it must hash to (may read indexes from the mirror). */
  resolveArtifacts(release: string, options?: ResolveOptions): Promise<ResolvedArtifacts>;
  /** Fetches, verifies, unpacks and prepares the release's source tree once; later calls are cached. */
  prepareSource(release: string, options?: PrepareDistroOptions): Promise<PreparedDistroSource>;
}
