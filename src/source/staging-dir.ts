/**
 * Fill a directory, then put it in place with one rename, so an interrupted unpack never leaves a
 * half tree at `dest`: either the complete tree is there or nothing is.
 * The staging directory sits beside `dest` (same file system, so rename is atomic) and is named
 * `.NAME.partial.PID@HOST.XXXXXX`; leftovers of a killed run (dead PID on this host) are removed.
 */
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { SourceError } from '../errors.js';
import { isProcessAlive } from './lock.js';

export interface StagingOptions {
  /** Replace an existing non-empty `dest` (swapped out atomically, then deleted). Default: refuse. */
  replace?: boolean;
}

async function removeStaleStagings(parent: string, base: string): Promise<void> {
  const prefix = `.${base}.partial.`;
  const host = hostname();
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)@(.*)\.[^.]{6}(?:\.old)?$/.exec(name.slice(prefix.length));
    if (match && match[2] === host && !isProcessAlive(Number(match[1]))) {
      await rm(join(parent, name), { recursive: true, force: true });
    }
  }
}

export async function withStagingDir<T>(
  dest: string,
  fill: (dir: string) => Promise<T>,
  options: StagingOptions = {},
): Promise<T> {
  const parent = dirname(dest);
  const base = basename(dest);
  await mkdir(parent, { recursive: true });
  await removeStaleStagings(parent, base);
  const staging = await mkdtemp(join(parent, `.${base}.partial.${process.pid}@${hostname()}.`));
  try {
    await chmod(staging, 0o755 & ~process.umask());
    const result = await fill(staging);
    await install(staging, dest, options);
    return result;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function install(staging: string, dest: string, options: StagingOptions): Promise<void> {
  try {
    await rename(staging, dest); // also replaces an empty directory
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw error;
    if (!options.replace) {
      throw new SourceError(`${dest} already exists`, {
        hint: 'remove it first (or pass replace: true) to unpack again',
      });
    }
  }
  const old = `${staging}.old`;
  await rename(dest, old);
  await rename(staging, dest);
  await rm(old, { recursive: true, force: true });
}
