import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LockError } from '../../src/errors.js';
import { isProcessAlive, type LockHolder, readLockHolder, withLock } from '../../src/source/lock.js';
import { tempDir } from './helpers.js';

const HOLDER = fileURLToPath(new URL('./fixtures/lock-holder.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Line {
  event: string;
  pid: number;
  start?: number;
  end?: number;
  holder?: number;
  message?: string;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Starts a lock-holder child; `lines` collects its JSON output, `exit` resolves with its exit status. */
function holder(lock: string, holdMs: number, mode = 'wait') {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, lock, String(holdMs), mode], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: Line[] = [];
  const waiters: { event: string; resolve: (line: Line) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const w of waiters.filter((w) => w.event === line.event)) w.resolve(line);
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const next = (event: string) =>
    new Promise<Line>((resolve) => {
      const seen = lines.find((l) => l.event === event);
      if (seen) resolve(seen);
      else waiters.push({ event, resolve });
    });
  return { child, lines, exit, next };
}

/** A pid that no longer exists. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('withLock', () => {
  it('serialises two processes: their critical sections never overlap', async () => {
    const lock = join(await tempDir(), 'cache.lock');
    const a = holder(lock, 400);
    const b = holder(lock, 400);
    expect(await a.exit).toEqual({ code: 0, signal: null });
    expect(await b.exit).toEqual({ code: 0, signal: null });
    const [sa, sb] = [a, b].map((h) => h.lines.find((l) => l.event === 'releasing')!);
    const [first, second] = sa!.start! < sb!.start! ? [sa!, sb!] : [sb!, sa!];
    expect(second.start!).toBeGreaterThanOrEqual(first.end!);
    // The later one saw the earlier one holding the lock.
    const waiter = [a, b].find((h) => h.lines.some((l) => l.event === 'waiting'));
    expect(waiter?.lines.find((l) => l.event === 'waiting')?.holder).toBe(first.pid);
    expect(existsSync(lock)).toBe(false);
  });

  it('fails fast with LockError naming the holder when told not to wait, then gets it once free', async () => {
    const lock = join(await tempDir(), 'cache.lock');
    const a = holder(lock, 1500);
    const held = await a.next('acquired');
    const error = await withLock(lock, async () => 'no', { wait: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockError);
    expect((error as LockError).message).toContain(`held by pid ${held.pid} on ${hostname()}`);
    expect((error as LockError).message).toContain(lock);
    expect((error as LockError).hint).toMatch(/wait for it/);
    let waitedFor: LockHolder | undefined;
    const result = await withLock(lock, async () => 'yes', { onWait: (h) => (waitedFor = h) });
    expect(result).toBe('yes');
    expect(waitedFor?.pid).toBe(held.pid);
    expect(await a.exit).toEqual({ code: 0, signal: null });
  });

  it('a child started with nowait reports LockError while we hold the lock', async () => {
    const lock = join(await tempDir(), 'cache.lock');
    await withLock(lock, async () => {
      const b = holder(lock, 0, 'nowait');
      expect((await b.exit).code).toBe(1);
      expect(b.lines[0]).toMatchObject({ event: 'error', name: 'LockError' });
      expect(b.lines[0]?.message).toContain(`pid ${process.pid}`);
    });
  });

  it('is released when the holder is killed by SIGTERM, and the process still dies of it', async () => {
    const lock = join(await tempDir(), 'cache.lock');
    const a = holder(lock, 60_000);
    await a.next('acquired');
    expect(existsSync(lock)).toBe(true);
    a.child.kill('SIGTERM');
    expect(await a.exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a stale lock left by a SIGKILLed process', async () => {
    const lock = join(await tempDir(), 'cache.lock');
    const a = holder(lock, 60_000);
    const held = await a.next('acquired');
    a.child.kill('SIGKILL');
    await a.exit;
    expect((await readLockHolder(lock))?.pid).toBe(held.pid);
    expect(await withLock(lock, async () => (await readLockHolder(lock))?.pid)).toBe(process.pid);
    expect(existsSync(lock)).toBe(false);
  });

  it.each([
    ['dead pid on this host', async () => ({ pid: await deadPid(), hostname: hostname() }), true],
    [
      'live pid reused by another process',
      async () => ({ pid: process.ppid, hostname: hostname(), processStart: '1' }),
      true,
    ],
    [
      'other host (never broken)',
      async () => ({ pid: await deadPid(), hostname: 'elsewhere.example' }),
      false,
    ],
    ['live holder on this host', async () => ({ pid: process.ppid, hostname: hostname() }), false],
  ])('lock held by a %s → taken over: %s', async (_name, make, stale) => {
    const lock = join(await tempDir(), 'cache.lock');
    const holderInfo = { startedAt: '2025-01-01T00:00:00Z', token: 'old', ...(await make()) };
    await writeFile(lock, JSON.stringify(holderInfo));
    const result = await withLock(lock, async () => 'got it', { wait: false }).catch((e: unknown) => e);
    if (stale) {
      expect(result).toBe('got it');
      expect(existsSync(lock)).toBe(false);
    } else {
      expect(result).toBeInstanceOf(LockError);
      expect((result as LockError).message).toContain(`pid ${holderInfo.pid} on ${holderInfo.hostname}`);
      expect(JSON.parse(await readFile(lock, 'utf8')).token).toBe('old'); // left alone
    }
  });

  it('releases on exceptions, refuses nesting, and removes its signal handlers afterwards', async () => {
    const lock = join(await tempDir(), 'cache.lock');
    const before = [
      process.listenerCount('SIGINT'),
      process.listenerCount('SIGTERM'),
      process.listenerCount('exit'),
    ];
    await expect(
      withLock(lock, async () => {
        expect(process.listenerCount('SIGINT')).toBe(before[0]! + 1);
        await expect(withLock(lock, async () => 1)).rejects.toThrow(/already held by this process/);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
    expect([
      process.listenerCount('SIGINT'),
      process.listenerCount('SIGTERM'),
      process.listenerCount('exit'),
    ]).toEqual(before);
  });

  it('gives up after timeoutMs, and stops waiting on abort', async () => {
    const lock = join(await tempDir(), 'cache.lock');
    await writeFile(
      lock,
      JSON.stringify({ pid: process.ppid, hostname: hostname(), startedAt: 'x', token: 't' }),
    );
    await expect(withLock(lock, async () => 1, { timeoutMs: 150, pollMs: 20 })).rejects.toThrow(
      /gave up waiting after 150 ms/,
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(withLock(lock, async () => 1, { signal: controller.signal })).rejects.toThrow(
      'interrupted by SIGINT',
    );
  });

  it('isProcessAlive', async () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(await deadPid())).toBe(false);
    expect(isProcessAlive(0)).toBe(false);
  });
});
