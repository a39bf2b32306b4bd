/**
 * A Debian suite's kernel packages as the archive lists them today: every pocket of the suite
 * (bookworm, bookworm-updates, bookworm-security …, from distro/debian.json) opened with the verified
 * archive client, the linux-* stanzas of their Packages indexes merged, every version kept (newest
 * first). This is what release names resolve against: which releases a suite still carries, which one
 * its metapackage points at today, and the exact, checksummed package files of one release.
 */
import { DistroError } from '../errors.js';
import {
  type ArchiveOptions,
  type ArchivePackage,
  openSuite,
  readPackagesIndex,
} from '../source/debian-archive.js';
import { debianArchiveConfig } from '../source/debian-mirrors.js';
import { compareDebianVersions } from '../source/debian-version.js';
import { type DebianLayout, debianData, debianLayout, suiteData } from './debian-layout.js';

export interface DebianSuiteIndex {
  suite: string;
  /** Package name → its stanzas in every pocket, newest version first. */
  packages: Map<string, ArchivePackage[]>;
  /** "<mirror> <suite>" of each pocket read. */
  pockets: string[];
}

const KERNEL_PACKAGES = { key: 'linux', select: (name: string) => name.startsWith('linux-') };
const loaded = new Map<string, Promise<DebianSuiteIndex>>();

async function loadSuite(suite: string, options: ArchiveOptions): Promise<DebianSuiteIndex> {
  const data = debianData();
  const rules = suiteData(suite, data);
  const config = options.config ?? debianArchiveConfig();
  const packages = new Map<string, ArchivePackage[]>();
  const pockets: string[] = [];
  for (const [i, pocket] of rules.pockets.entries()) {
    const mirror = pocket.mirror === 'security' ? config.securityMirror : config.mirror;
    const opened = await openSuite(mirror, pocket.suite, { ...options, config });
    if (!opened) {
      if (i === 0) {
        throw new DistroError(`the mirror ${mirror} has no suite ${pocket.suite}`, {
          hint: 'set KPATCH_DEBIAN_MIRROR (or KPATCH_DEBIAN_SECURITY_MIRROR) to a full Debian mirror',
        });
      }
      continue; // e.g. a mirror without -updates
    }
    pockets.push(`${mirror} ${pocket.suite}`);
    for (const p of await readPackagesIndex(
      opened,
      data.component,
      data.architecture,
      KERNEL_PACKAGES,
      options,
    )) {
      const list = packages.get(p.package) ?? [];
      list.push(p);
      packages.set(p.package, list);
    }
  }
  for (const list of packages.values()) list.sort((a, b) => compareDebianVersions(b.version, a.version));
  return { suite, packages, pockets };
}

/** The suite's kernel packages; read once per process and configuration. */
export function loadDebianSuite(suite: string, options: ArchiveOptions = {}): Promise<DebianSuiteIndex> {
  const config = options.config ?? debianArchiveConfig();
  const key = JSON.stringify([suite, options.cacheDir, config]);
  let promise = loaded.get(key);
  if (!promise) {
    promise = loadSuite(suite, { ...options, config });
    promise.catch(() => loaded.delete(key));
    loaded.set(key, promise);
  }
  return promise;
}

/** Does the suite list every package a release needs (image, headers, kbuild)? */
function carries(index: DebianSuiteIndex, layout: DebianLayout): boolean {
  return [...layout.imagePackages, ...layout.headerPackages].every((name) => index.packages.has(name));
}

/**
 * Every kernel release the suite's archive still carries — its image and header packages are all
 * listed — oldest first (by package version), flavours included.
 */
export async function listSuiteReleases(suite: string, options: ArchiveOptions = {}): Promise<string[]> {
  const index = await loadDebianSuite(suite, options);
  const pattern = new RegExp(suiteData(suite).releasePattern);
  const releases: { release: string; version: string }[] = [];
  for (const [name, list] of index.packages) {
    const release = name.startsWith('linux-headers-') ? name.slice('linux-headers-'.length) : '';
    if (!pattern.test(release)) continue;
    if (carries(index, debianLayout(release, suite)))
      releases.push({ release, version: list[0]?.version ?? '' });
  }
  return releases
    .sort((a, b) => compareDebianVersions(a.version, b.version) || a.release.localeCompare(b.release))
    .map((r) => r.release);
}

/** The release the suite's linux-image-<flavour> metapackage depends on today (its newest version). */
export async function latestSuiteRelease(
  suite: string,
  flavour = 'amd64',
  options: ArchiveOptions = {},
): Promise<string> {
  const data = debianData();
  const metapackage = data.latestMetapackage.replace(/amd64$/, flavour);
  const index = await loadDebianSuite(suite, options);
  const newest = index.packages.get(metapackage)?.[0];
  const pattern = new RegExp(data.latestDependsPattern);
  for (const alternative of (newest?.depends ?? '').split(/[,|]/)) {
    const name = alternative.trim().split(/\s/)[0] ?? '';
    const release = pattern.exec(name)?.groups?.release;
    if (release) return release;
  }
  throw new DistroError(`${metapackage} in ${suite} names no kernel image package`, {
    hint: `searched ${index.pockets.join(', ')}; name the release instead (-a <release>, e.g. ${suiteData(suite).releaseExample})`,
  });
}

/** "releases trixie carries today: …" — those of the release's flavour, newest 8. */
export async function carriedReleasesHint(
  release: string,
  suite: string,
  options: ArchiveOptions = {},
): Promise<string> {
  const flavour = debianLayout(release, suite).flavour;
  const carried = (await listSuiteReleases(suite, options)).filter(
    (r) => debianLayout(r, suite).flavour === flavour,
  );
  return `releases ${suite} carries today: ${carried.slice(-8).join(', ') || 'none'}${carried.length > 8 ? ' (newest 8)' : ''}`;
}

export interface ResolvedDebianRelease {
  release: string;
  suite: string;
  /** Version of the image package, e.g. 6.12.118-1: headers and source must be of the same build. */
  packageVersion: string;
  layout: DebianLayout;
  image: ArchivePackage;
  /** The packages that complete the image (forky: linux-base-, linux-modules-); none before forky. */
  imageParts: ArchivePackage[];
  /** linux-headers-<release>, its -common, linux-kbuild. */
  headers: ArchivePackage[];
  /** linux-source-X.Y of the same version, when the archive still has it. */
  source: ArchivePackage | undefined;
}

/** The stanza of `name` at `version` when listed, else its newest (kbuild-6.1 is one package for all ABIs). */
function pick(index: DebianSuiteIndex, name: string, version: string): ArchivePackage | undefined {
  const list = index.packages.get(name);
  return list?.find((p) => p.version === version) ?? list?.[0];
}

/**
 * A release resolved to the exact package files (URL, size, SHA256 from the verified indexes) of its
 * suite (default: the suite its name belongs to). Refused when the suite no longer carries it, with the
 * releases it does carry.
 */
export async function resolveDebianPackages(
  release: string,
  suite?: string,
  options: ArchiveOptions = {},
): Promise<ResolvedDebianRelease> {
  const layout = debianLayout(release, suite);
  const index = await loadDebianSuite(layout.suite, options);
  const image = index.packages.get(layout.imagePackage)?.[0];
  const missing = [...layout.imagePackages, ...layout.headerPackages].filter((n) => !index.packages.has(n));
  if (!image || missing.length > 0) {
    throw new DistroError(
      `${layout.suite} does not carry ${release}: ${missing.join(', ')} not in ${index.pockets.map((p) => p.split(' ')[1]).join(', ')}`,
      { hint: await carriedReleasesHint(release, layout.suite, options) },
    );
  }
  const exact = (name: string) => pick(index, name, image.version) as ArchivePackage;
  const imageParts = layout.imagePackages.slice(1).map(exact);
  const headers = layout.headerPackages.map(exact);
  const source = index.packages.get(layout.sourcePackage)?.find((p) => p.version === image.version);
  return {
    release,
    suite: layout.suite,
    packageVersion: image.version,
    layout,
    image,
    imageParts,
    headers,
    source,
  };
}
