/**
 * kpatch-build --clean-cache: removes a distro release's cached target and prepared source, under the
 * same locks preparing and building take (so a run using the entry finishes first, and none starts on a
 * half-removed one). Lock files stay until released; the emptied directories are removed after, only if
 * still empty (another run may have started on them meanwhile). Downloaded packages (debs/, rpms) are
 * shared between releases and kept: they are verified on every use.
 */
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { withLock } from './lock.js';

/** Locks of an entry, outermost first: the target's, the source's, the tree's (held by a build). */
const ENTRY_LOCKS = ['.lock', '.source.lock', 'source/.kpatch-build.lock'];

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** Removes everything in `dir` but the lock files named in `keep` (relative to `root`). */
async function removeContents(root: string, dir: string, keep: readonly string[]): Promise<void> {
  for (const name of await readdir(join(root, dir))) {
    const relative = dir === '' ? name : `${dir}/${name}`;
    if (keep.includes(relative)) continue;
    if (keep.some((k) => k.startsWith(`${relative}/`))) await removeContents(root, relative, keep);
    else await rm(join(root, relative), { recursive: true, force: true });
  }
}

async function withLocks<T>(dir: string, locks: readonly string[], fn: () => Promise<T>): Promise<T> {
  const [first, ...rest] = locks;
  if (first === undefined) return fn();
  return withLock(join(dir, first), () => withLocks(dir, rest, fn));
}

/** A release names one directory: no separators, no "." or "..". */
function isReleaseName(release: string): boolean {
  return /^[A-Za-z0-9_+~.-]+$/.test(release) && release !== '.' && release !== '..';
}

/** Removes one release's entry; false when nothing was cached for it. */
export async function cleanCacheEntry(cache: string, distro: string, release: string): Promise<boolean> {
  if (!isReleaseName(release)) {
    throw new UsageError(`--clean-cache -a "${release}": not a kernel release name`, {
      hint: 'e.g. --clean-cache -a 6.1.0-57-amd64',
    });
  }
  const dir = join(cache, 'targets', distro, release);
  if (!(await isDirectory(dir))) return false;
  const hasSource = await isDirectory(join(dir, 'source'));
  const locks = ENTRY_LOCKS.filter((lock) => hasSource || !lock.startsWith('source/'));
  await withLocks(dir, locks, () => removeContents(dir, '', locks));
  await rmdir(join(dir, 'source')).catch(() => {});
  await rmdir(dir).catch(() => {});
  return true;
}

/** Removes `release`'s entry, or every release's of the distro; returns the releases removed. */
export async function cleanCache(cache: string, distro: string, release?: string): Promise<string[]> {
  const releases =
    release !== undefined ? [release] : await readdir(join(cache, 'targets', distro)).catch(() => []);
  const removed: string[] = [];
  for (const r of releases) if (await cleanCacheEntry(cache, distro, r)) removed.push(r);
  return removed;
}
