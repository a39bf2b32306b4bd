/**
 * RPM repository metadata (createrepo format): repodata/repomd.xml names primary.xml(.gz|.xz|.zst) with its
 * SHA256; primary.xml lists each package's name, version, arch, location, size and SHA256. A package found
 * here is downloaded and verified against those values. repomd.xml itself is fetched as it is (its GPG
 * signature, repomd.xml.asc, is not checked).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SourceError } from '../errors.js';
import { decompressBuffer, sniffCompression } from './extract-tar.js';
import { fetchFile } from './fetch-file.js';

export interface RepoPackage {
  name: string;
  arch: string;
  epoch: string;
  version: string;
  release: string;
  /** Relative to the repository's base URL (or absolute when the metadata says so). */
  href: string;
  /** Absolute download URL. */
  url: string;
  size: number;
  sha256: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decodeXml = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITIES[e] ?? '');

function attr(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name.replace(':', '\\:')}="([^"]*)"`).exec(tag);
  return match?.[1] === undefined ? undefined : decodeXml(match[1]);
}

export interface RepomdEntry {
  href: string;
  sha256: string;
  size: number | undefined;
}

/** The `primary` entry of repomd.xml. */
export function parseRepomd(xml: string, where: string): RepomdEntry {
  for (const block of xml.split(/<data\s/).slice(1)) {
    if (!/^type="primary"/.test(block)) continue;
    const checksum = /<checksum type="sha256">([0-9a-fA-F]{64})<\/checksum>/.exec(block)?.[1];
    const location = /<location\s[^>]*>/.exec(block)?.[0];
    const href = location ? attr(location, 'href') : undefined;
    const size = /<size>(\d+)<\/size>/.exec(block)?.[1];
    if (!checksum || !href) break;
    return { href, sha256: checksum.toLowerCase(), size: size === undefined ? undefined : Number(size) };
  }
  throw new SourceError(`${where}: no primary metadata with a sha256 checksum`, {
    hint: 'the repository metadata is incomplete or not createrepo format',
  });
}

function joinUrl(base: string, href: string): string {
  return new URL(href, base.endsWith('/') ? base : `${base}/`).toString();
}

/** Packages in primary.xml for which `select(name, arch)` is true (cheap filter before full parsing). */
export function findPrimaryPackages(
  xml: string,
  baseUrl: string,
  select: (name: string, arch: string) => boolean,
  where: string,
): RepoPackage[] {
  const found: RepoPackage[] = [];
  let pos = 0;
  for (;;) {
    const start = xml.indexOf('<package ', pos);
    if (start === -1) break;
    const end = xml.indexOf('</package>', start);
    if (end === -1)
      throw new SourceError(`${where}: truncated primary.xml`, { hint: 'the metadata is corrupt' });
    pos = end + 10;
    const block = xml.slice(start, end);
    const name = /<name>([^<]*)<\/name>/.exec(block)?.[1];
    const arch = /<arch>([^<]*)<\/arch>/.exec(block)?.[1];
    if (name === undefined || arch === undefined || !select(decodeXml(name), decodeXml(arch))) continue;
    const versionTag = /<version\s[^>]*>/.exec(block)?.[0] ?? '';
    const checksumMatch = /<checksum type="sha256"[^>]*>([0-9a-fA-F]{64})<\/checksum>/.exec(block);
    const sizeTag = /<size\s[^>]*>/.exec(block)?.[0] ?? '';
    const locationTag = /<location\s[^>]*>/.exec(block)?.[0] ?? '';
    const href = attr(locationTag, 'href');
    const size = Number(attr(sizeTag, 'package'));
    if (!checksumMatch || !href || !Number.isSafeInteger(size)) {
      throw new SourceError(`${where}: package ${name} has no sha256 checksum, size or location`, {
        hint: 'only repositories with sha256 checksums are supported',
      });
    }
    const base = attr(locationTag, 'xml:base') ?? baseUrl;
    found.push({
      name: decodeXml(name),
      arch: decodeXml(arch),
      epoch: attr(versionTag, 'epoch') ?? '0',
      version: attr(versionTag, 'ver') ?? '',
      release: attr(versionTag, 'rel') ?? '',
      href,
      url: joinUrl(base, href),
      size,
      sha256: (checksumMatch[1] ?? '').toLowerCase(),
    });
  }
  return found;
}

export interface RepoQueryOptions {
  /** Where metadata is cached (e.g. <cache>/downloads/<distro>/repodata). */
  metadataDir: string;
  signal?: AbortSignal;
  retryDelayMs?: number;
}

/** Fetches repomd.xml and its verified primary.xml from `baseUrl`, and returns the packages selected. */
export async function queryRepository(
  baseUrl: string,
  select: (name: string, arch: string) => boolean,
  options: RepoQueryOptions,
): Promise<RepoPackage[]> {
  const repomdUrl = joinUrl(baseUrl, 'repodata/repomd.xml');
  const key = Buffer.from(baseUrl).toString('base64url').slice(-80);
  const repomdFile = join(options.metadataDir, `${key}.repomd.xml`);
  const common = { signal: options.signal, retryDelayMs: options.retryDelayMs };
  await fetchFile({ url: repomdUrl, dest: repomdFile, fresh: true, ...common });
  const primary = parseRepomd(await readFile(repomdFile, 'utf8'), repomdUrl);
  const primaryUrl = joinUrl(baseUrl, primary.href);
  const primaryFile = join(
    options.metadataDir,
    `${primary.sha256.slice(0, 16)}-${primary.href.split('/').pop()}`,
  );
  await fetchFile({
    url: primaryUrl,
    dest: primaryFile,
    sha256: primary.sha256,
    size: primary.size,
    ...common,
  });
  const data = await readFile(primaryFile);
  const xml = (await decompressBuffer(data, sniffCompression(data), primaryUrl, 1 << 30)).toString('utf8');
  return findPrimaryPackages(xml, baseUrl, select, primaryUrl);
}
