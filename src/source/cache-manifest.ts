/**
 * A cached tree that checks itself: when a tree is unpacked into the cache, the size of every regular
 * file is recorded beside it; on use, each is stat()ed (no reads: about a second for a kernel tree) and
 * a file that is missing or changed size marks the entry damaged, so it is unpacked again instead of a
 * later step (the patch test) blaming the user's patch for a file the cache lost.
 * Files the build adds later are not listed and do not matter.
 */
import { lstat, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ManifestEntry {
  path: string;
  size: number;
}

async function walk(root: string, dir: string, out: ManifestEntry[], olderThan: number): Promise<void> {
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) await walk(root, path, out, olderThan);
    else if (entry.isFile()) {
      const info = await lstat(join(root, path));
      if (info.mtimeMs < olderThan) out.push({ path, size: info.size });
    }
  }
}

/**
 * Records every regular file of `tree` with its size in `file` ("size<TAB>path" lines). `olderThan`
 * (ms since the epoch) keeps only files last modified before then: for a tree unpacked before
 * manifests existed, the files from the archive (which keep the archive's times), not those the
 * build generated since.
 */
export async function writeTreeManifest(
  tree: string,
  file: string,
  olderThan = Number.POSITIVE_INFINITY,
): Promise<number> {
  const entries: ManifestEntry[] = [];
  await walk(tree, '', entries, olderThan);
  const text = entries.map((e) => `${e.size}\t${e.path}`).join('\n');
  await writeFile(`${file}.tmp`, `${text}\n`);
  await rename(`${file}.tmp`, file); // a manifest is complete or absent
  return entries.length;
}

export type TreeCheck =
  | { state: 'intact' }
  /** No manifest: a tree cached before manifests existed, or whose unpacking never finished. */
  | { state: 'unknown' }
  | { state: 'damaged'; problems: string[] };

async function checkLine(tree: string, line: string): Promise<string | undefined> {
  const tab = line.indexOf('\t');
  const size = Number(line.slice(0, tab));
  const path = line.slice(tab + 1);
  const info = await lstat(join(tree, path)).catch(() => undefined);
  if (!info?.isFile()) return `${path} is missing`;
  if (info.size !== size) return `${path} has ${info.size} bytes, not ${size}`;
  return undefined;
}

/** Compares `tree` with its manifest; stops after `limit` problems. */
export async function checkTreeManifest(tree: string, file: string, limit = 5): Promise<TreeCheck> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return { state: 'unknown' };
  const problems: string[] = [];
  const lines = text.split('\n').filter((line) => line !== '');
  // Batches of stat() calls in flight: a sequential walk of 80k files takes several times longer.
  for (let start = 0; start < lines.length && problems.length < limit; start += 512) {
    const batch = lines.slice(start, start + 512);
    const found = await Promise.all(batch.map((line) => checkLine(tree, line)));
    problems.push(...found.filter((p): p is string => p !== undefined));
  }
  problems.splice(limit);
  return problems.length === 0 ? { state: 'intact' } : { state: 'damaged', problems };
}

/** "cache entry damaged (fs/proc/cmdline.c is missing), re-preparing it" */
export function damagedMessage(what: string, problems: readonly string[], action: string): string {
  return `cache entry ${what} damaged (${problems.join('; ')}), ${action}`;
}
