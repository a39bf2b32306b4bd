/**
 * Unpacks a Debian source package the way `dpkg-source -x` does, without dpkg:
 *  - 1.0:          <orig>.tar.* unpacked (top directory stripped), then <version>.diff.gz applied with -p1;
 *                  without a .diff.gz it is a native package (one .tar.*).
 *  - 3.0 (quilt):  <orig>.tar.*, then debian.tar.* replaces debian/, then debian/patches/series applied in order.
 *  - 3.0 (native): one .tar.*.
 * Each file is checked against the .dsc's Checksums-Sha256 first, and the result is all or nothing (a staging
 * directory renamed into place). Archives go through TarGuard, patches through applyPatch's vetting.
 * Ubuntu's kernel (`linux`) is a 1.0 package: linux_5.15.0.orig.tar.gz + linux_5.15.0-91.101.diff.gz.
 */
import { createReadStream } from 'node:fs';
import { lstat, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SourceError } from '../errors.js';
import { applyPatch } from './apply-patch.js';
import { type Dsc, parseDsc, verifyDscFiles } from './dsc.js';
import { decompressBuffer, extractTarStream, sniffCompression } from './extract-tar.js';
import { withStagingDir } from './staging-dir.js';
import { detectCompression, unpackTarball } from './unpack-tarball.js';

export interface UnpackDscOptions {
  signal?: AbortSignal;
  /** Replace an existing non-empty destination. Default: refuse. */
  replace?: boolean;
  /** Check sizes and SHA256 of the parts against the .dsc (default true). */
  verify?: boolean;
}

export interface UnpackedSource {
  dir: string;
  dsc: Dsc;
  /** Patches applied, in order (the .diff.gz, or quilt series entries). */
  patches: string[];
}

const TAR = /\.tar(?:\.(?:gz|xz|bz2|lzma|zst))?$/;

/** The version in the first line of debian/changelog: "linux (5.15.0-91.101) jammy; urgency=medium". */
export function changelogVersion(changelog: string): { source: string; version: string } | undefined {
  const match = /^(\S+) \(([^)\s]+)\)/.exec(changelog);
  return match ? { source: match[1] ?? '', version: match[2] ?? '' } : undefined;
}

/** Entries of a quilt series file: patch name and -p level. */
export function parseSeries(text: string, where: string): { name: string; strip: number }[] {
  const entries: { name: string; strip: number }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    const [name = '', option] = line.split(/\s+/);
    const strip = option === undefined ? 1 : Number(/^-p(\d+)$/.exec(option)?.[1] ?? Number.NaN);
    if (name.startsWith('/') || name.split('/').includes('..') || Number.isNaN(strip)) {
      throw new SourceError(`${where}: bad series entry "${raw}"`, {
        hint: 'the source package is corrupt or crafted',
      });
    }
    entries.push({ name, strip });
  }
  return entries;
}

async function applyQuiltSeries(tree: string, where: string, signal?: AbortSignal): Promise<string[]> {
  const dir = join(tree, 'debian/patches');
  const seriesFile = [join(dir, 'debian.series'), join(dir, 'series')];
  let text: string | undefined;
  for (const file of seriesFile) {
    const info = await lstat(file).catch(() => undefined);
    if (info?.isFile()) {
      text = await readFile(file, 'utf8');
      break;
    }
  }
  if (text === undefined) return [];
  const applied: string[] = [];
  for (const entry of parseSeries(text, `${where}: debian/patches/series`)) {
    const file = join(dir, entry.name);
    const info = await lstat(file).catch(() => undefined);
    if (!info?.isFile()) {
      throw new SourceError(
        `${where}: debian/patches/${entry.name} is listed in the series but is not a file`,
        {
          hint: 'the source package is corrupt or crafted',
        },
      );
    }
    await applyPatch(tree, await readFile(file), {
      strip: entry.strip,
      where: `debian/patches/${entry.name}`,
      signal,
    });
    applied.push(entry.name);
  }
  return applied;
}

/** Unpacks the source package described by the .dsc at `dscPath` (its parts beside it) into `dest`. */
export async function unpackDsc(
  dscPath: string,
  dest: string,
  options: UnpackDscOptions = {},
): Promise<UnpackedSource> {
  const where = dscPath;
  const dsc = parseDsc(await readFile(dscPath, 'utf8'), where);
  const dir = dirname(dscPath);
  if (options.verify !== false) await verifyDscFiles(dsc, dir, where);
  const names = dsc.files.map((f) => f.name);
  const orig = names.find((n) => /\.orig\.tar\.[a-z0-9]+$/.test(n) || /\.orig\.tar$/.test(n));
  const diff = names.find((n) => n.endsWith('.diff.gz'));
  const debianTar = names.find((n) => /\.debian\.tar(?:\.[a-z0-9]+)?$/.test(n));
  const native = names.find((n) => TAR.test(n) && n !== orig && n !== debianTar);
  const format = dsc.format.trim();
  const { signal } = options;
  const patches: string[] = [];
  await withStagingDir(
    dest,
    async (tree) => {
      if (format === '1.0' || format === '3.0 (quilt)') {
        const base = format === '1.0' && !diff ? native : orig;
        if (!base)
          throw new SourceError(
            `${where}: no ${format === '1.0' && !diff ? '.tar' : '.orig.tar'} file listed`,
            { hint: 'the .dsc is incomplete' },
          );
        await unpackTarball(join(dir, base), tree, { strip: 1, replace: true, signal });
      } else if (format === '3.0 (native)') {
        if (!native)
          throw new SourceError(`${where}: no .tar file listed`, { hint: 'the .dsc is incomplete' });
        await unpackTarball(join(dir, native), tree, { strip: 1, replace: true, signal });
      } else {
        throw new SourceError(`${where}: source format "${format}" is not supported`, {
          hint: 'supported: 1.0, 3.0 (quilt), 3.0 (native)',
        });
      }
      if (format === '1.0' && diff) {
        const path = join(dir, diff);
        const data = await readFile(path);
        await applyPatch(tree, await decompressBuffer(data, sniffCompression(data), path, 1 << 30), {
          strip: 1,
          where: diff,
          signal,
        });
        patches.push(diff);
      }
      if (format === '3.0 (quilt)') {
        if (!debianTar)
          throw new SourceError(`${where}: no .debian.tar file listed`, { hint: 'the .dsc is incomplete' });
        await rm(join(tree, 'debian'), { recursive: true, force: true });
        const path = join(dir, debianTar);
        await extractTarStream(createReadStream(path), tree, {
          where: path,
          compression: await detectCompression(path),
          filter: ['debian/**'],
          signal,
        });
        patches.push(...(await applyQuiltSeries(tree, where, signal)));
      }
      const changelog = await readFile(join(tree, 'debian/changelog'), 'utf8').catch(() => '');
      const top = changelogVersion(changelog);
      if (top && (top.version !== dsc.version || top.source !== dsc.source)) {
        throw new SourceError(
          `${where}: debian/changelog says ${top.source} ${top.version}, the .dsc says ${dsc.source} ${dsc.version}`,
          { hint: 'the source package is inconsistent; do not use it' },
        );
      }
    },
    { replace: options.replace },
  );
  return { dir: dest, dsc, patches };
}
