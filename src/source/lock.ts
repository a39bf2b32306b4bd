/**
 * An inter-process lock on a cache directory, so two kpatch-build runs sharing a cache never write the
 * same files at once. The lock is a file created atomically (written to a temp file, then hard-linked
 * into place, so nobody ever reads it half written) that names its holder: pid, host, start time and a
 * random token. A lock whose holder is dead on this host (pid gone, pid reused by another process, or
 * the host rebooted since) is stale and taken over. Locks held by another host are never broken.
 *
 * Takeover renames the stale file aside and checks it really was the stale one; if another waiter took
 * the lock in between, the file is linked back. Three runs racing on one stale lock within a few
 * microseconds could still end with two holders; that is accepted.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockError } from '../errors.js';
import { abortError } from './abort.js';

export interface LockHolder {
  pid: number;
  hostname: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  token: string;
  /** Start time of the holder process in clock ticks since boot (/proc/PID/stat field 22), to spot pid reuse. */
  processStart?: string;
  bootId?: string;
}

export interface LockOptions {
  /** Wait for the holder to finish (default), or fail at once with LockError. */
  wait?: boolean;
  /** Called once, when we first find the lock held by someone else. */
  onWait?: (holder: LockHolder) => void;
  /** Give up waiting after this long (LockError). Default: wait for ever. */
  timeoutMs?: number;
  /** First polling interval; it grows 1.5x per poll up to 1 s. Default 50 ms. */
  pollMs?: number;
  signal?: AbortSignal;
}

/** True if a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

export async function readLockHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const holder = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    return typeof holder.pid === 'number' && typeof holder.token === 'string' ? holder : undefined;
  } catch {
    return undefined;
  }
}

function isStale(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return false;
  const boot = bootId();
  if (holder.bootId && boot && holder.bootId !== boot) return true;
  if (!isProcessAlive(holder.pid)) return true;
  const start = processStart(holder.pid);
  return Boolean(holder.processStart && start && start !== holder.processStart);
}

async function tryCreate(path: string, holder: LockHolder): Promise<boolean> {
  const data = `${JSON.stringify(holder)}\n`;
  const temp = `${path}.${holder.token}.tmp`;
  await writeFile(temp, data);
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
    // No hard links on this file system: exclusive create (readers may briefly see it empty).
    try {
      await writeFile(path, data, { flag: 'wx' });
      return true;
    } catch (error2) {
      if ((error2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error2;
    }
  } finally {
    await rm(temp, { force: true });
  }
}

async function takeOver(path: string, stale: LockHolder | undefined): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch {
    return; // already gone
  }
  const moved = await readLockHolder(aside);
  if (moved?.token !== stale?.token) {
    await link(aside, path).catch(() => undefined); // a live lock: put it back
  }
  await rm(aside, { force: true });
}

// Locks held by this process, released by the signal/exit handlers below.
const held = new Map<string, string>();

function releaseSync(path: string, token: string): void {
  try {
    if ((JSON.parse(readFileSync(path, 'utf8')) as LockHolder).token === token) unlinkSync(path);
  } catch {
    // not ours any more, or already gone
  }
}

function releaseAll(): void {
  for (const [path, token] of held) releaseSync(path, token);
  held.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // If the application handles this signal itself, it decides what happens; withLock's finally releases.
  if (process.listenerCount(signal) > 1) return;
  releaseAll();
  removeHandlers();
  process.kill(process.pid, signal); // no handler left: the default action ends the process
}
const onSigint = () => onSignal('SIGINT');
const onSigterm = () => onSignal('SIGTERM');

function addHandlers(): void {
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  process.on('exit', releaseAll);
}

function removeHandlers(): void {
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
  process.off('exit', releaseAll);
}

function describe(path: string, holder: LockHolder): string {
  return `${path} is held by pid ${holder.pid} on ${holder.hostname} since ${holder.startedAt}`;
}

async function acquire(path: string, options: LockOptions): Promise<string> {
  const { wait = true, signal, timeoutMs } = options;
  const me: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
    processStart: processStart(process.pid),
    bootId: bootId(),
  };
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
  let delay = options.pollMs ?? 50;
  let notified = false;
  for (;;) {
    if (signal?.aborted) throw abortError(signal);
    if (held.has(path)) {
      throw new LockError(`${path} is already held by this process`, {
        hint: 'nested withLock on the same path would wait for ever; this is a bug in the caller',
      });
    }
    if (await tryCreate(path, me)) return me.token;
    const holder = await readLockHolder(path);
    if (holder === undefined) {
      // Vanished (retry now) or unreadable: only an old unreadable file counts as stale.
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      if (Date.now() - info.mtimeMs > 60_000) {
        await takeOver(path, undefined);
        continue;
      }
    } else if (isStale(holder)) {
      await takeOver(path, holder);
      continue;
    }
    const shown = holder ?? { pid: 0, hostname: '?', startedAt: '?', token: '' };
    if (!wait) {
      throw new LockError(describe(path, shown), {
        hint: `another kpatch-build is using this cache; wait for it, or delete ${path} if pid ${shown.pid} on ${shown.hostname} is not kpatch-build`,
      });
    }
    if (!notified) options.onWait?.(shown);
    notified = true;
    if (Date.now() >= deadline) {
      throw new LockError(`gave up waiting after ${timeoutMs} ms: ${describe(path, shown)}`, {
        hint: `wait for that run to finish, or delete ${path} if pid ${shown.pid} is not kpatch-build`,
      });
    }
    const pause = Math.min(delay * (0.75 + Math.random() / 2), deadline - Date.now());
    await sleep(Math.max(0, pause), undefined, { signal }).catch((error: unknown) => {
      throw signal?.aborted ? abortError(signal) : error;
    });
    delay = Math.min(delay * 1.5, 1000);
  }
}

/**
 * Runs `fn` while holding the lock file `path`; the lock is released however `fn` ends.
 * Not reentrant: a second withLock on the same path in the same process fails with LockError
 * instead of waiting for itself.
 */
export async function withLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const path = resolve(lockPath);
  const token = await acquire(path, options);
  if (held.size === 0) addHandlers();
  held.set(path, token);
  try {
    return await fn();
  } finally {
    held.delete(path);
    if (held.size === 0) removeHandlers();
    releaseSync(path, token);
  }
}
