/**
 * Paths named on a command line, checked before any work so that a typo ends in one clear line naming
 * the option, never in a stack trace after minutes of building. Writability is probed by creating and
 * removing an entry: permission bits say nothing for root, nor about read-only mounts.
 */
import { mkdtemp, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException | null)?.code ?? 'error';
}

function why(error: unknown): string {
  const code = errnoOf(error);
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOTDIR') return 'a part of the path is not a directory';
  return (error as Error).message;
}

/** A file named by `option` must exist and be a regular file (or a directory when `kind` says so). */
export async function requireInput(path: string, option: string, kind: 'file' | 'directory' = 'file') {
  const info = await stat(path).catch((error: unknown) => {
    throw new UsageError(`${option} ${path}: ${why(error)}`, {
      hint: `check the path of ${option} (relative paths start at ${process.cwd()})`,
    });
  });
  const ok = kind === 'file' ? info.isFile() : info.isDirectory();
  if (!ok) {
    throw new UsageError(`${option} ${path}: not a ${kind}`, { hint: `${option} takes a ${kind}` });
  }
}

/** The nearest directory at or above `path` that exists. */
async function existingAncestor(path: string): Promise<string> {
  let dir = resolve(path);
  for (;;) {
    const info = await stat(dir).catch(() => undefined);
    if (info) return dir;
    const parent = dirname(dir);
    if (parent === dir) return dir;
    dir = parent;
  }
}

/**
 * The output directory (created later if missing) must be writable: probed by creating and removing an
 * entry in it, or in its nearest existing ancestor.
 */
export async function probeOutputDir(path: string, option = '-o/--output', shown = path): Promise<void> {
  const dir = await existingAncestor(path);
  const info = await stat(dir);
  if (!info.isDirectory()) {
    const what = dir === resolve(shown) ? shown : `${dir} (in ${shown})`;
    throw new UsageError(`${option} ${what}: is a file, not a directory`, {
      hint: `choose another path for ${option}`,
    });
  }
  const probe = await mkdtemp(join(dir, '.kpatch-build-probe-')).catch((error: unknown) => {
    throw new UsageError(`${option} ${shown}: cannot write in ${dir}: ${why(error)}`, {
      hint: `choose a writable directory with ${option}`,
    });
  });
  await rmdir(probe);
}

/** An output file: not a directory, and its directory (or nearest existing ancestor) writable. */
export async function probeOutputFile(path: string, option: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) {
    throw new UsageError(`${option} ${path}: is a directory`, { hint: `${option} names the file to write` });
  }
  await probeOutputDir(dirname(resolve(path)), option, path);
}

/** Each [option, path] pair whose path is given must name an existing regular file. */
export async function requireInputs(inputs: ReadonlyArray<readonly [string, string | undefined]>) {
  for (const [option, path] of inputs) if (path !== undefined) await requireInput(path, option);
}
