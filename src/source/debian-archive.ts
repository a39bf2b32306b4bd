/**
 * The tool's own client for a Debian archive (no apt on the host needed, any suite from any host):
 *   dists/<suite>/InRelease   fetched, its signature checked with gpgv against the configured keyrings
 *                             (inrelease-signature.ts), its Release text parsed and checked: the suite it
 *                             names, Valid-Until; one older than the copy cached before never replaces it;
 *   <component>/binary-<arch>/Packages.xz   fetched by hash (by-hash/SHA256/<digest> when the Release
 *                             file allows it, so a mirror update cannot race us), its size and SHA256
 *                             checked against the Release file before it is kept;
 *   the stanzas of the packages asked for (Filename, Size, SHA256 …), which is what .debs are checked
 *                             against when fetched (fetch-packages.ts).
 * Cache (CACHE/downloads/debian/): <host-path>/<suite>/InRelease — only ever a verified copy, reused for
 * `maxAgeMs` and while its Valid-Until holds; indexes/<sha256>.xz and, per selection, a JSON summary of
 * the stanzas it selected (an index is parsed once). A file that fails a check is removed, never cached.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DownloadError, KpatchError, SourceError } from '../errors.js';
import { cacheRoot } from './cache-dir.js';
import { parseDeb822 } from './deb822.js';
import { type DebianArchiveConfig, debianArchiveConfig } from './debian-mirrors.js';
import { downloadFile, HttpStatusError } from './download.js';
import { decompressBuffer, sniffCompression } from './extract-tar.js';
import { verifyInRelease } from './inrelease-signature.js';
import { withLock } from './lock.js';
import { checkRelease, parseRelease, type ReleaseInfo } from './release-file.js';

export interface ArchiveOptions {
  cacheDir?: string;
  signal?: AbortSignal;
  retryDelayMs?: number;
  /** Defaults to debianArchiveConfig() (host apt sources, environment, CLI). */
  config?: DebianArchiveConfig;
  /** "Now" for validity checks (tests). */
  now?: number;
}

/** One suite of one mirror whose Release file passed every check. */
export interface OpenedSuite {
  mirror: string;
  suite: string;
  release: ReleaseInfo;
  /** Fingerprints of the keys whose signatures were good. */
  signers: string[];
}

/** One package stanza of a Packages index, with its download URL. */
export interface ArchivePackage {
  package: string;
  version: string;
  architecture: string;
  /** Pool path relative to the mirror (pool/main/l/linux/…deb). */
  filename: string;
  url: string;
  size: number;
  sha256: string;
  depends: string;
  source: string;
  /** "<mirror> <suite>" it was found in. */
  origin: string;
}

export const joinUrl = (base: string, path: string) => `${base.replace(/\/+$/, '')}/${path}`;

/** A cache directory name for a mirror URL ("deb.debian.org_debian-security"). */
export function mirrorKey(mirror: string): string {
  return mirror
    .replace(/^[a-z]+:\/\//, '')
    .replace(/[^A-Za-z0-9.-]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

const archiveDir = (options: ArchiveOptions) => join(options.cacheDir ?? cacheRoot(), 'downloads', 'debian');

async function readVerified(
  file: string,
  url: string,
  suite: string,
  config: DebianArchiveConfig,
  options: ArchiveOptions,
): Promise<OpenedSuite['release'] & { signers: string[] }> {
  const checked = await verifyInRelease(file, url, config.keyrings, options.signal);
  const release = parseRelease(checked.text, url);
  checkRelease(release, suite, url, { ignoreValidUntil: config.ignoreValidUntil, now: options.now });
  return { ...release, signers: checked.signers };
}

/**
 * Opens dists/<suite> of `mirror`: a verified InRelease from the cache when young enough, else fetched
 * afresh and verified before it replaces the cached one. Undefined when the mirror has no such suite (404).
 */
export async function openSuite(
  mirror: string,
  suite: string,
  options: ArchiveOptions = {},
): Promise<OpenedSuite | undefined> {
  const config = options.config ?? debianArchiveConfig();
  const dir = join(archiveDir(options), mirrorKey(mirror), suite);
  const file = join(dir, 'InRelease');
  const url = joinUrl(mirror, `dists/${suite}/InRelease`);
  const now = options.now ?? Date.now();
  const cachedAt = (await stat(file).catch(() => undefined))?.mtimeMs;
  const fromCache = async () => {
    const { signers, ...release } = await readVerified(file, url, suite, config, options);
    return { mirror, suite, release, signers };
  };
  if (cachedAt !== undefined && now - cachedAt < config.maxAgeMs) return fromCache();
  await mkdir(dir, { recursive: true });
  return withLock(
    join(archiveDir(options), '.lock'),
    async () => {
      const fresh = `${file}.new`;
      await rm(fresh, { force: true });
      try {
        await downloadFile({
          url,
          dest: fresh,
          signal: options.signal,
          retryDelayMs: options.retryDelayMs,
          retries: 2,
        });
      } catch (error) {
        await rm(fresh, { force: true });
        if (error instanceof HttpStatusError && error.status === 404) return undefined;
        // Offline: the verified copy still serves while its Valid-Until holds (checked again here).
        if (cachedAt !== undefined && !options.signal?.aborted && error instanceof DownloadError)
          return fromCache();
        throw error;
      }
      try {
        const { signers, ...release } = await readVerified(fresh, url, suite, config, options);
        const previous = cachedAt === undefined ? undefined : await fromCache().catch(() => undefined);
        // An older Release than the verified one we have (a lagging CDN node, or a replay) never replaces
        // it: the newer copy stays in use while it is valid.
        if (previous && release.date < previous.release.date) return previous;
        await rename(fresh, file);
        return { mirror, suite, release, signers };
      } finally {
        await rm(fresh, { force: true });
      }
    },
    { ...(options.signal ? { signal: options.signal } : {}) },
  );
}

/** Stanzas of a Packages text whose package name `select` accepts; others are skipped without parsing. */
export function scanPackages(
  text: Buffer,
  select: (name: string) => boolean,
  where: string,
): ArchivePackage[] {
  const found: ArchivePackage[] = [];
  const PACKAGE = Buffer.from('Package: ');
  let pos = 0;
  // Works on the bytes: only the selected paragraphs become strings (the trixie index is 56 MB).
  while (pos < text.length) {
    let end = text.indexOf('\n\n', pos);
    if (end === -1) end = text.length;
    const starts =
      pos + PACKAGE.length <= text.length &&
      text.compare(PACKAGE, 0, PACKAGE.length, pos, pos + PACKAGE.length) === 0;
    const lineEnd = text.indexOf('\n', pos);
    const head = starts
      ? text.toString('utf8', pos + PACKAGE.length, lineEnd === -1 || lineEnd > end ? end : lineEnd).trim()
      : undefined;
    if (head === undefined || select(head)) {
      for (const p of parseDeb822(text.toString('utf8', pos, end), where)) {
        const name = p.required('Package', where);
        if (!select(name)) continue;
        const filename = p.required('Filename', name);
        if (filename.startsWith('/') || filename.split('/').includes('..')) {
          throw new SourceError(`${where}: unsafe Filename "${filename}" for ${name}`, {
            hint: 'the index is corrupt or crafted',
          });
        }
        const sha256 = p.required('SHA256', name).toLowerCase();
        const size = Number(p.required('Size', name));
        if (!/^[0-9a-f]{64}$/.test(sha256) || !Number.isSafeInteger(size)) {
          throw new SourceError(`${where}: bad SHA256 or Size for ${name}`, {
            hint: 'the index is corrupt or crafted',
          });
        }
        found.push({
          package: name,
          version: p.required('Version', name),
          architecture: p.field('Architecture') ?? '',
          filename,
          url: '',
          size,
          sha256,
          depends: p.field('Depends') ?? '',
          source: p.field('Source') ?? name,
          origin: '',
        });
      }
    }
    pos = end + 1;
    while (text[pos] === 0x0a) pos++;
  }
  return found;
}

/**
 * An index's bytes, decompressed. xz goes through a plain pipe: execa's buffered output took 3.5 s for
 * trixie's 56 MB index, a pipe takes about 0.6 s.
 */
async function decompressIndex(data: Buffer, where: string): Promise<Buffer> {
  const compression = sniffCompression(data);
  if (compression !== 'xz') return decompressBuffer(data, compression, where, 1 << 30);
  const child = spawn('xz', ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.on('error', () => undefined); // xz may exit early on corrupt input: the exit status says so
  child.stdin.end(data);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).catch((error: NodeJS.ErrnoException) => {
    throw new SourceError(`${where}: cannot run xz: ${error.code ?? error.message}`, {
      hint: 'install xz-utils',
    });
  });
  if (code !== 0) {
    throw new SourceError(`${where}: cannot decompress (xz): ${stderr.trim().split('\n')[0]}`, {
      hint: 'the index is corrupt although its SHA256 matched: report it to the mirror',
    });
  }
  return Buffer.concat(chunks);
}

export interface IndexSelection {
  /** Part of the cache file name of the selection's summary ("linux"). */
  key: string;
  select: (name: string) => boolean;
}

/** Fetches one index file (by hash when allowed) verified against the Release file; returns its bytes. */
async function fetchIndexFile(opened: OpenedSuite, path: string, options: ArchiveOptions): Promise<Buffer> {
  const entry = opened.release.files.get(path);
  if (!entry) throw new SourceError(`${path} is not listed in ${opened.suite}'s Release file`);
  const dir = join(archiveDir(options), 'indexes');
  const dest = join(dir, `${entry.sha256}${path.slice(path.lastIndexOf('.'))}`);
  const plain = joinUrl(opened.mirror, `dists/${opened.suite}/${path}`);
  const byHash = joinUrl(
    opened.mirror,
    `dists/${opened.suite}/${path.slice(0, path.lastIndexOf('/'))}/by-hash/SHA256/${entry.sha256}`,
  );
  await mkdir(dir, { recursive: true });
  const common = {
    dest,
    sha256: entry.sha256,
    size: entry.size,
    signal: options.signal,
    retryDelayMs: options.retryDelayMs,
  };
  await withLock(
    join(dir, '.lock'),
    async () => {
      try {
        try {
          await downloadFile({ ...common, url: opened.release.acquireByHash ? byHash : plain });
        } catch (error) {
          if (!(opened.release.acquireByHash && error instanceof HttpStatusError && error.status === 404))
            throw error;
          await downloadFile({ ...common, url: plain });
        }
      } catch (error) {
        await rm(`${dest}.part`, { force: true });
        if (error instanceof KpatchError && error.code === 'checksum') {
          throw new SourceError(`${plain}: does not match the SHA256 its signed Release file gives`, {
            hint: 'the mirror serves a modified or half-updated index (try again later, or another mirror); it was not cached',
            cause: error,
          });
        }
        if (error instanceof DownloadError && /size mismatch/.test(error.message)) {
          throw new SourceError(
            `${plain}: ${error.message.replace(/ \(http.*$/, '')}, not what its signed Release file gives`,
            {
              hint: 'the mirror serves a modified or half-updated index (try again later, or another mirror); it was not cached',
              cause: error,
            },
          );
        }
        throw error;
      }
    },
    { ...(options.signal ? { signal: options.signal } : {}) },
  );
  return readFile(dest);
}

/**
 * The packages of `<component>/binary-<arch>/Packages` that `selection` accepts, from the verified
 * index (Packages.xz, .gz or plain, whichever the Release file lists first). Empty when it lists none.
 */
export async function readPackagesIndex(
  opened: OpenedSuite,
  component: string,
  arch: string,
  selection: IndexSelection,
  options: ArchiveOptions = {},
): Promise<ArchivePackage[]> {
  const base = `${component}/binary-${arch}/Packages`;
  const path = ['.xz', '.gz', ''].map((s) => base + s).find((p) => opened.release.files.has(p));
  if (!path) return [];
  const entry = opened.release.files.get(path);
  const summary = join(archiveDir(options), 'indexes', `${entry?.sha256}-${selection.key}.json`);
  const origin = `${opened.mirror} ${opened.suite}`;
  const withUrls = (packages: ArchivePackage[]) =>
    packages.map((p) => ({ ...p, url: joinUrl(opened.mirror, p.filename), origin }));
  const cached = await readFile(summary, 'utf8').catch(() => undefined);
  if (cached) return withUrls(JSON.parse(cached) as ArchivePackage[]);
  const data = await fetchIndexFile(opened, path, options);
  const where = joinUrl(opened.mirror, `dists/${opened.suite}/${path}`);
  const text = await decompressIndex(data, where);
  const packages = scanPackages(text, selection.select, where);
  const tmp = `${summary}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(packages));
  await rename(tmp, summary);
  return withUrls(packages);
}
