/**
 * Where an Ubuntu kernel release's files are, from the archive's own indexes (no apt needed on the host):
 *   dists/<suite>/InRelease → <component>/binary-amd64/Packages.xz → linux-headers-<release> etc.:
 *     Filename, Size, SHA256, Version (5.15.0-91.101: the upload number is only known from here), Source
 *   dists/<suite>/InRelease → <component>/source/Sources.xz → the source package of that version:
 *     Directory and Checksums-Sha256 of the .dsc, .orig.tar.gz and .diff.gz (or .debian.tar.xz)
 * Series are searched in seriesCandidates' order (KPATCH_UBUNTU_SERIES or the host's own series, the
 * data's guess from the kernel version, then its searchSeries), each one's suites in the data's order (<series>-security, -updates, release pocket); the
 * first index listing linux-headers-<release> wins, and its Source field names the source package (linux,
 * linux-hwe-6.8, …). Packages the data marks optional (linux-modules-extra-<release>) are left out when
 * that index does not list them. A superseded ABI is no longer in the indexes: it is refused (its files
 * may still be in the pool, but unverifiable).
 */
import { join } from 'node:path';
import { DistroError } from '../errors.js';
import { fetchSuite, readSuiteIndex } from '../source/apt-index.js';
import { type Paragraph, sha256Lines } from '../source/deb822.js';
import { expandRequired, type UbuntuData } from './adapter-data.js';
import { hostUbuntuSeries } from './detect-distro.js';
import type { Artifact, ParsedRelease, ResolvedArtifacts, ResolveOptions } from './distro-adapter.js';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Does a package version belong to the release? "5.15.0-91.101" ↔ "5.15.0-91-generic". */
export function ubuntuVersionMatches(data: UbuntuData, parsed: ParsedRelease, version: string): boolean {
  const escaped = Object.fromEntries(Object.entries(parsed.parts).map(([k, v]) => [k, escapeRegExp(v)]));
  return new RegExp(expandRequired(data.packageVersionPattern, escaped, 'packageVersionPattern')).test(
    version,
  );
}

/** "linux" or "linux (5.15.0-91.101)" from a Packages stanza's Source field; defaults to the binary's own. */
export function sourceOf(paragraph: Paragraph): { name: string; version: string } {
  const binaryVersion = paragraph.field('Version') ?? '';
  const field = paragraph.field('Source');
  if (!field) return { name: paragraph.field('Package') ?? '', version: binaryVersion };
  const match = /^(\S+)(?:\s+\(([^)]+)\))?$/.exec(field.trim());
  return { name: match?.[1] ?? field, version: match?.[2] ?? binaryVersion };
}

/**
 * The series to search for a release, in order: a preferred one first (KPATCH_UBUNTU_SERIES, else the
 * host's own series when it runs Ubuntu), then the data's guess from the kernel version (5.15.0 → jammy),
 * then every series of `searchSeries`. The same release can ship in more than one series as different
 * builds (HWE: jammy's linux-hwe-6.8 builds 6.8.0-<abi>-generic as noble's linux does, with another
 * compiler), and the first series listing linux-headers-<release> wins: the preference decides which.
 */
export function seriesCandidates(data: UbuntuData, parsed: ParsedRelease, preferred?: string): string[] {
  const guess = data.series[parsed.parts.kver ?? ''];
  return [...new Set([...(preferred ? [preferred] : []), ...(guess ? [guess] : []), ...data.searchSeries])];
}

export async function resolveUbuntuArtifacts(
  data: UbuntuData,
  parsed: ParsedRelease,
  mirrors: Record<string, string>,
  options: ResolveOptions & { cacheDir: string },
): Promise<ResolvedArtifacts> {
  const mirror = mirrors.archive ?? Object.values(mirrors)[0] ?? '';
  const wanted = Object.fromEntries(
    data.fetch.map((key) => [key, expandRequired(data.packages[key] ?? '', parsed.parts, `packages.${key}`)]),
  );
  const optional = new Set(data.optional ?? []);
  const headersName = wanted[data.fetch[0] ?? ''] ?? '';
  const indexOptions = {
    metadataDir: join(options.cacheDir, 'downloads', 'ubuntu', 'metadata'),
    signal: options.signal,
    retryDelayMs: options.retryDelayMs,
  };
  const searched: string[] = [];
  const preferred = process.env.KPATCH_UBUNTU_SERIES || hostUbuntuSeries();
  for (const series of seriesCandidates(data, parsed, preferred)) {
    for (const suiteTemplate of data.suites) {
      const suite = expandRequired(suiteTemplate, { ...parsed.parts, series }, 'suites');
      const index = await fetchSuite(mirror, suite, indexOptions);
      if (!index) {
        searched.push(`${suite} (not on the mirror)`);
        continue;
      }
      for (const component of data.components) {
        searched.push(`${suite}/${component}`);
        const packagesPath = expandRequired(data.indexes.packages, { component }, 'indexes.packages');
        const stanzas = await readSuiteIndex(mirror, index, packagesPath, indexOptions);
        const byName = new Map<string, Paragraph>();
        for (const p of stanzas ?? []) {
          const name = p.field('Package');
          if (name && Object.values(wanted).includes(name)) byName.set(name, p);
        }
        const headers = byName.get(headersName);
        if (!headers) continue;
        const version = headers.required('Version', packagesPath);
        if (!ubuntuVersionMatches(data, parsed, version)) {
          throw new DistroError(
            `${headersName} in ${suite} has version ${version}, which is not of release ${parsed.release}`,
            {
              hint: 'the archive index does not follow the release-string rules in distro/ubuntu.json',
            },
          );
        }
        const binaries = binaryArtifacts(wanted, optional, byName, version, `${suite}/${component}`, mirror);
        const source = sourceOf(headers);
        const sourcesPath = expandRequired(data.indexes.sources, { component }, 'indexes.sources');
        const sources = await readSuiteIndex(mirror, index, sourcesPath, indexOptions);
        const stanza = sources?.find(
          (p) => p.field('Package') === source.name && p.field('Version') === source.version,
        );
        if (!stanza) {
          throw new DistroError(
            `source package ${source.name} ${source.version} is not in ${suite}/${component}'s Sources`,
            {
              hint: 'the archive is being updated; try again later',
            },
          );
        }
        return {
          distro: 'ubuntu',
          release: parsed.release,
          packageVersion: version,
          source: sourceArtifacts(stanza, source, sourcesPath, mirror),
          binaries,
        };
      }
    }
  }
  throw new DistroError(
    `${headersName} is not in the Ubuntu archive indexes (searched ${searched.join(', ') || 'nothing'})`,
    {
      hint:
        'the release may be superseded (only the current kernels of a series are indexed, and unindexed files cannot be ' +
        'verified), of a series distro/ubuntu.json does not list ("searchSeries"), or not an archive kernel; check uname -r',
    },
  );
}

const unsafePath = (path: string) => path.startsWith('/') || path.split('/').includes('..');

/** The binary packages of one version, by role; an optional one absent from the index is left out. */
function binaryArtifacts(
  wanted: Record<string, string>,
  optional: ReadonlySet<string>,
  byName: ReadonlyMap<string, Paragraph>,
  version: string,
  where: string,
  mirror: string,
): Artifact[] {
  return Object.entries(wanted).flatMap(([role, name]) => {
    const p = byName.get(name);
    if (!p && optional.has(role)) return [];
    if (!p || p.field('Version') !== version) {
      throw new DistroError(`${name} ${version} is not in ${where}`, {
        hint: 'the archive is being updated (try again later) or the package names in distro/ubuntu.json are wrong',
      });
    }
    const filename = p.required('Filename', name);
    if (unsafePath(filename)) {
      throw new DistroError(`unsafe Filename "${filename}" for ${name}`, {
        hint: 'the index is corrupt or crafted',
      });
    }
    return [
      {
        role,
        fileName: filename.split('/').pop() ?? '',
        url: `${mirror}/${filename}`,
        sha256: p.required('SHA256', name).toLowerCase(),
        size: Number(p.required('Size', name)),
        verification: 'apt-index' as const,
      },
    ];
  });
}

/** The .dsc and its parts, from the source package's Sources stanza. */
function sourceArtifacts(
  stanza: Paragraph,
  source: { name: string; version: string },
  sourcesPath: string,
  mirror: string,
): Artifact[] {
  const directory = stanza.required('Directory', sourcesPath);
  if (unsafePath(directory)) {
    throw new DistroError(`unsafe Directory "${directory}" for ${source.name}`, {
      hint: 'the index is corrupt or crafted',
    });
  }
  const artifacts: Artifact[] = sha256Lines(stanza, 'Checksums-Sha256', sourcesPath).map((f) => ({
    role: f.name.endsWith('.dsc') ? 'dsc' : `source:${f.name}`,
    fileName: f.name,
    url: `${mirror}/${directory}/${f.name}`,
    sha256: f.sha256,
    size: f.size,
    verification: f.name.endsWith('.dsc') ? 'apt-index' : 'dsc',
  }));
  if (!artifacts.some((a) => a.role === 'dsc')) {
    throw new DistroError(`${source.name} ${source.version} lists no .dsc`, {
      hint: 'the Sources index is corrupt',
    });
  }
  return artifacts;
}
