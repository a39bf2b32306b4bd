/**
 * Package → URL, size and SHA256, from the Debian archive's own signed indexes (debian-archive.ts), not
 * from the host's apt: any suite can be read from any host, and what a .deb must hash to comes from an
 * InRelease whose signature was checked. A name may carry "=version". The suite searched first is the
 * one asked for (options.suite, else --suite), then the one the names point at (+deb13 → trixie,
 * linux-source-6.1 → bookworm, by distro/debian.json), then the host's, then every other known suite;
 * the first suite that lists every package wins, and in it each package's newest version (apt's
 * candidate, without pinning) unless a version was named.
 */

import { DistroError, SourceError } from '../errors.js';
import { abortError } from '../source/abort.js';
import type { ArchiveOptions, ArchivePackage } from '../source/debian-archive.js';
import { debianArchiveConfig } from '../source/debian-mirrors.js';
import type { AptUri } from '../source/fetch-packages.js';
import { debianData, hostDebianSuite, suiteOfRelease } from './debian-layout.js';
import { carriedReleasesHint, loadDebianSuite } from './debian-suite-index.js';

export interface AptOptions extends Pick<ArchiveOptions, 'cacheDir' | 'config'> {
  /** The suite to search first (bookworm, trixie, forky, sid). */
  suite?: string;
  signal?: AbortSignal;
}

/** Debian package names (policy §5.6.1), optionally with =version. */
const PACKAGE_ARG = /^([a-z0-9][a-z0-9+.-]*)(?:=([A-Za-z0-9.+~:-]+))?$/;

/** The kernel release a package name carries (linux-image-6.12.118+deb13-amd64-unsigned), if any. */
function releaseInName(name: string): string | undefined {
  const release = /^linux-(?:image|headers)-(.+?)(?:-unsigned|-dbg)?$/.exec(name)?.[1];
  return release && suiteOfRelease(release) ? release : undefined;
}

/** The suite a package name points at: a release inside it (+deb13 → trixie), else its kernel series. */
export function suiteOfPackage(name: string): string | undefined {
  const data = debianData();
  const release = releaseInName(name);
  const byRelease = release ? suiteOfRelease(release, data) : undefined;
  if (byRelease && release && !/^\d+\.\d+\.\d+-\d+-/.test(release)) return byRelease;
  const series = /^linux-(?:source|kbuild|headers)-(\d+\.\d+)(?:[.-]|$)/.exec(name)?.[1];
  return data.suiteOrder.find((s) => series && data.suites[s]?.kernelSeries.includes(series)) ?? byRelease;
}

export function toAptUri(p: ArchivePackage): AptUri {
  return {
    url: p.url,
    fileName: `${p.package}_${p.version.replace(':', '%3a')}_${p.architecture}.deb`,
    size: p.size,
    sha256: p.sha256,
    hash: { algorithm: 'sha256', digest: p.sha256 },
    package: p.package,
    version: p.version,
    architecture: p.architecture,
  };
}

/** Resolves packages to download URLs, sizes and SHA256s from the verified Debian archive indexes. */
export async function aptPackageUris(
  packages: readonly string[],
  options: AptOptions = {},
): Promise<AptUri[]> {
  if (packages.length === 0) return [];
  const wanted = packages.map((arg) => {
    const match = PACKAGE_ARG.exec(arg);
    if (!match) {
      throw new SourceError(`"${arg}" is not a valid Debian package name`, {
        hint: 'package names use lower-case letters, digits and + - . (e.g. linux-kbuild-6.1), optionally =version',
      });
    }
    return { name: match[1] ?? '', version: match[2] };
  });
  const config = options.config ?? debianArchiveConfig();
  // Packages of one kernel release belong to the suite its name says; other names may be in any suite.
  const release = wanted.map((w) => releaseInName(w.name)).find(Boolean);
  const candidates = [
    options.suite,
    config.suite,
    ...wanted.map((w) => suiteOfPackage(w.name)),
    ...(release ? [] : [hostDebianSuite(), ...debianData().suiteOrder]),
  ].filter((s): s is string => s !== undefined);
  const archive = {
    config,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const searched: string[] = [];
  const failures: string[] = [];
  for (const [i, suite] of [...new Set(candidates)].entries()) {
    let index: Awaited<ReturnType<typeof loadDebianSuite>>;
    try {
      index = await loadDebianSuite(suite, archive);
    } catch (error) {
      if (options.signal?.aborted) throw abortError(options.signal);
      if (i === 0) throw error; // the suite asked for (or pointed at) must be readable
      failures.push(`${suite}: ${(error as Error).message}`);
      continue;
    }
    searched.push(suite);
    const found = wanted.map(({ name, version }) =>
      index.packages.get(name)?.find((p) => version === undefined || p.version === version),
    );
    if (found.every((p) => p !== undefined)) return (found as ArchivePackage[]).map(toAptUri);
  }
  const [first] = searched;
  if (release && first && searched.length === 1) {
    const index = await loadDebianSuite(first, archive);
    const missing = wanted.filter(
      (w) => !index.packages.get(w.name)?.some((p) => !w.version || p.version === w.version),
    );
    // The release itself is unknown to the suite: the user's "unknown release" (exit 66), as in
    // resolveDebianPackages, not a broken archive.
    throw new DistroError(
      `${first} does not carry ${release}: ${missing.map((w) => w.name).join(', ')} not in ${index.pockets.map((p) => p.split(' ')[1]).join(', ')}`,
      { hint: await carriedReleasesHint(release, first, archive) },
    );
  }
  throw new SourceError(`${packages.join(', ')}: not all in any Debian suite's archive index`, {
    hint:
      `searched ${searched.join(', ')} (${config.mirror}, ${config.securityMirror}); check the package names and versions` +
      (failures.length ? `; unreadable: ${failures.join('; ')}` : ''),
  });
}
