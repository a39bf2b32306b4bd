/**
 * Debian-format archive indexes read over HTTP, without apt (so it works for another distro than the host's):
 * dists/<suite>/InRelease lists the SHA256 and size of each index; an index (Packages.xz, Sources.xz) is
 * downloaded, verified against that list and parsed. InRelease's own PGP signature is not checked.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FileChecksum, type Paragraph, parseDeb822 } from './deb822.js';
import { decompressBuffer, sniffCompression } from './extract-tar.js';
import { fetchFile } from './fetch-file.js';
import { releaseParagraph } from './release-file.js';

export interface AptIndexOptions {
  /** Where index files are cached. */
  metadataDir: string;
  signal?: AbortSignal;
  retryDelayMs?: number;
}

export interface SuiteIndex {
  suite: string;
  /** SHA256 list of the Release file, by path relative to dists/<suite>/. */
  files: Map<string, FileChecksum>;
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path}`;
}

/** Parses a Release/InRelease file's SHA256 list. */
export function parseReleaseFile(text: string, where: string): Map<string, FileChecksum> {
  return new Map(releaseParagraph(text, where).list.map((f) => [f.name, f]));
}

/** Fetches dists/<suite>/InRelease afresh; a 404 (suite missing on this mirror) gives undefined. */
export async function fetchSuite(
  mirror: string,
  suite: string,
  options: AptIndexOptions,
): Promise<SuiteIndex | undefined> {
  const url = joinUrl(mirror, `dists/${suite}/InRelease`);
  const dest = join(options.metadataDir, `${suite}.InRelease`);
  try {
    await fetchFile({ url, dest, fresh: true, signal: options.signal, retryDelayMs: options.retryDelayMs });
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  }
  return { suite, files: parseReleaseFile(await readFile(dest, 'utf8'), url) };
}

/**
 * Downloads and parses an index of a suite, trying the compressed variants the Release file lists
 * (e.g. "main/binary-amd64/Packages" → Packages.xz, .gz, plain). Undefined when the suite has none.
 */
export async function readSuiteIndex(
  mirror: string,
  index: SuiteIndex,
  path: string,
  options: AptIndexOptions,
): Promise<Paragraph[] | undefined> {
  for (const suffix of ['.xz', '.gz', '']) {
    const entry = index.files.get(`${path}${suffix}`);
    if (!entry) continue;
    const url = joinUrl(mirror, `dists/${index.suite}/${path}${suffix}`);
    const dest = join(options.metadataDir, `${entry.sha256.slice(0, 16)}-${path.split('/').pop()}${suffix}`);
    await fetchFile({
      url,
      dest,
      sha256: entry.sha256,
      size: entry.size,
      signal: options.signal,
      retryDelayMs: options.retryDelayMs,
    });
    const data = await readFile(dest);
    const text = (await decompressBuffer(data, sniffCompression(data), url, 1 << 30)).toString('utf8');
    return parseDeb822(text, url);
  }
  return undefined;
}
