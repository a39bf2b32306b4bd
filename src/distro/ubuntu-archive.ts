/**
 * Where an Ubuntu kernel release's files are, from the archive's own indexes (no apt needed on the host):
 *   dists/<suite>/InRelease → <component>/binary-amd64/Packages.xz → linux-headers-<release> etc.:
 *     Filename, Size, SHA256, Version (5.15.0-91.101: the upload number is only known from here), Source
 *   dists/<suite>/InRelease → <component>/source/Sources.xz → the source package of that version:
 *     Directory and Checksums-Sha256 of the .dsc, .orig.tar.gz and .diff.gz (or .debian.tar.xz)
 * Suites are searched in the data's order (<series>-security, -updates, release pocket). A superseded ABI
 * is no longer in the indexes: it is refused (its files may still be in the pool, but unverifiable).
 */
import { join } from 'node:path';
import { DistroError } from '../errors.js';
import { fetchSuite, readSuiteIndex } from '../source/apt-index.js';
import { type Paragraph, sha256Lines } from '../source/deb822.js';
import { expandRequired, type UbuntuData } from './adapter-data.js';
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

export function seriesOf(data: UbuntuData, parsed: ParsedRelease): string {
  const kver = parsed.parts.kver ?? '';
  const series = data.series[kver];
  if (!series) {
    const known = Object.entries(data.series)
      .map(([k, s]) => `${k} (${s})`)
      .join(', ');
    throw new DistroError(`no Ubuntu series is known for kernel ${kver} (release ${parsed.release})`, {
      hint: `known: ${known}; add the series to distro/ubuntu.json ("series")`,
    });
  }
  return series;
}

export async function resolveUbuntuArtifacts(
  data: UbuntuData,
  parsed: ParsedRelease,
  mirrors: Record<string, string>,
  options: ResolveOptions & { cacheDir: string },
): Promise<ResolvedArtifacts> {
  const mirror = mirrors.archive ?? Object.values(mirrors)[0] ?? '';
  const values = { ...parsed.parts, series: seriesOf(data, parsed) };
  const wanted = Object.fromEntries(
    data.fetch.map((key) => [key, expandRequired(data.packages[key] ?? '', values, `packages.${key}`)]),
  );
  const indexOptions = {
    metadataDir: join(options.cacheDir, 'downloads', 'ubuntu', 'metadata'),
    signal: options.signal,
    retryDelayMs: options.retryDelayMs,
  };
  const searched: string[] = [];
  for (const suiteTemplate of data.suites) {
    const suite = expandRequired(suiteTemplate, values, 'suites');
    const index = await fetchSuite(mirror, suite, indexOptions);
    if (!index) continue;
    for (const component of data.components) {
      searched.push(`${suite}/${component}`);
      const packagesPath = expandRequired(data.indexes.packages, { component }, 'indexes.packages');
      const stanzas = await readSuiteIndex(mirror, index, packagesPath, indexOptions);
      const byName = new Map<string, Paragraph>();
      for (const p of stanzas ?? []) {
        const name = p.field('Package');
        if (name && Object.values(wanted).includes(name)) byName.set(name, p);
      }
      const headers = byName.get(wanted[data.fetch[0] ?? ''] ?? '');
      if (!headers) continue;
      const version = headers.required('Version', packagesPath);
      if (!ubuntuVersionMatches(data, parsed, version)) {
        throw new DistroError(
          `${headers.field('Package')} in ${suite} has version ${version}, which is not of release ${parsed.release}`,
          {
            hint: 'the archive index does not follow the release-string rules in distro/ubuntu.json',
          },
        );
      }
      const binaries: Artifact[] = Object.entries(wanted).map(([role, name]) => {
        const p = byName.get(name);
        if (!p || p.field('Version') !== version) {
          throw new DistroError(`${name} ${version} is not in ${suite}/${component}`, {
            hint: 'the archive is being updated (try again later) or the package names in distro/ubuntu.json are wrong',
          });
        }
        const filename = p.required('Filename', name);
        if (filename.startsWith('/') || filename.split('/').includes('..')) {
          throw new DistroError(`unsafe Filename "${filename}" for ${name}`, {
            hint: 'the index is corrupt or crafted',
          });
        }
        return {
          role,
          fileName: filename.split('/').pop() ?? '',
          url: `${mirror}/${filename}`,
          sha256: p.required('SHA256', name).toLowerCase(),
          size: Number(p.required('Size', name)),
          verification: 'apt-index',
        };
      });
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
      const directory = stanza.required('Directory', sourcesPath);
      if (directory.startsWith('/') || directory.split('/').includes('..')) {
        throw new DistroError(`unsafe Directory "${directory}" for ${source.name}`, {
          hint: 'the index is corrupt or crafted',
        });
      }
      const files = sha256Lines(stanza, 'Checksums-Sha256', sourcesPath);
      const sourceArtifacts: Artifact[] = files.map((f) => ({
        role: f.name.endsWith('.dsc') ? 'dsc' : `source:${f.name}`,
        fileName: f.name,
        url: `${mirror}/${directory}/${f.name}`,
        sha256: f.sha256,
        size: f.size,
        verification: f.name.endsWith('.dsc') ? 'apt-index' : 'dsc',
      }));
      if (!sourceArtifacts.some((a) => a.role === 'dsc')) {
        throw new DistroError(`${source.name} ${source.version} lists no .dsc`, {
          hint: 'the Sources index is corrupt',
        });
      }
      return {
        distro: 'ubuntu',
        release: parsed.release,
        packageVersion: version,
        source: sourceArtifacts,
        binaries,
      };
    }
  }
  throw new DistroError(
    `${wanted[data.fetch[0] ?? '']} is not in the Ubuntu archive indexes (${searched.join(', ') || 'no suite found'})`,
    {
      hint:
        'the release may be superseded (only the current kernels of a series are indexed, and unindexed files cannot be ' +
        'verified), or it is not built from the linux source package; check uname -r, or use a current release',
    },
  );
}
