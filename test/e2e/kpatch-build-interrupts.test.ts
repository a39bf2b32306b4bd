import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareTarget } from '../../src/distro/prepare-target.js';
import { EXAMPLES, REPO } from './support/paths.js';
import { runBin } from './support/run-bin.js';

// Every phase of kpatch-build -s, stopped by SIGINT (Ctrl-C: the whole process group gets it) or
// SIGTERM (`kill PID`: only kpatch-build gets it): exit 130/143, the tree as it was, the lock free,
// no process of the run left and no work directory left in the run's own TMPDIR. The runs use a private
// copy of the cached test kernel tree, so a failure here can never leave the shared tree patched.
let tree: string;
let scratch: string;

interface PhaseCase {
  phase: string;
  /** The start of the progress line that begins the phase. */
  line: string;
  /** A line of the next phase, which must not appear. */
  next: string;
  /** A child process the phase runs, waited for before the signal (none: the phase is in-process). */
  child?: RegExp;
  args?: string[];
}

const PHASES: PhaseCase[] = [
  {
    phase: 'prepare (make of --full-build)',
    line: 'Building the kernel tree (--full-build)',
    next: 'Testing patch file(s)',
    child: /^make$/,
    args: ['--full-build', '-t', 'vmlinux'],
  },
  {
    // The patch test and kbuild's index run between these two lines, under the tree's lock.
    phase: 'patch test and index',
    line: 'Testing patch file(s)',
    next: 'Building original source',
  },
  {
    phase: 'build original',
    line: 'Building original source',
    next: 'Building patched source',
    child: /^(sh|gcc|cc1)$/,
  },
  {
    phase: 'build patched',
    line: 'Building patched source',
    next: 'Extracting new and modified ELF sections',
    child: /^(sh|gcc|cc1)$/,
  },
  {
    phase: 'diff',
    line: 'Extracting new and modified ELF sections',
    next: 'Patched objects: vmlinux',
  },
  {
    phase: 'module build',
    line: 'Building patch module: livepatch-cmdline.ko',
    next: 'SUCCESS',
    child: /^make$/,
  },
  {
    phase: 'verify',
    line: 'Verifying livepatch-cmdline.ko in a VM',
    next: 'verify: PASS',
    child: /^qemu-system-x86/,
    args: ['--verify'],
  },
];

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/**
 * The live processes of a session (the run's own: it was started detached), names as ps shows them.
 * Zombies are dead: orphans wait there until this container's pid 1 reaps them.
 */
async function groupProcesses(sid: number): Promise<Array<{ pid: number; comm: string }>> {
  const ps = await execa('ps', ['-o', 'pid=,stat=,comm=', '-g', String(sid)], { reject: false });
  return String(ps.stdout)
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 3 && !f[1]!.startsWith('Z'))
    .map(([pid, , comm]) => ({ pid: Number(pid), comm: comm! }));
}

async function waitFor(test: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await test()) return true;
    await sleep(20);
  }
  return test();
}

beforeAll(async () => {
  const target = await prepareTarget({ kind: 'test' });
  scratch = await mkdtemp(join(tmpdir(), 'e2e-interrupts-'));
  tree = join(scratch, 'tree');
  // Timestamps kept: kbuild sees the copy as built.
  await execa('nice', ['-n', '10', 'cp', '-a', '--reflink=auto', target.sourceDir!, tree]);
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('kpatch-build stopped by a signal', () => {
  const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
  it.each(PHASES.flatMap((c) => SIGNALS.map((signal) => [c.phase, signal, c] as const)))(
    '%s, %s: exits 128+signal, tree restored, lock free, nothing left',
    async (_, signal, c) => {
      const sources = ['fs/proc/cmdline.c', 'Makefile', 'fs/proc/Makefile'];
      const before = await Promise.all(sources.map((f) => sha256(join(tree, f))));
      const procBefore = (await readdir(join(tree, 'fs/proc'))).sort();
      const runTmp = await mkdtemp(join(scratch, 'tmp-'));
      const out = join(scratch, 'out');
      await mkdir(out, { recursive: true });
      // Its own process group (as a shell job), so the test can see every process of the run.
      const run = execa(
        'node',
        [`${REPO}bin/kpatch-build.js`, '-s', tree, '-o', out, ...(c.args ?? []), `${EXAMPLES}cmdline.patch`],
        { reject: false, detached: true, env: { CI: 'true', TMPDIR: runTmp }, cwd: REPO },
      );
      const pgid = run.pid!;
      let stderr = '';
      run.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const shown = (start: string) => stderr.split('\n').some((l) => l.startsWith(start));
      const reached = await waitFor(() => shown(c.line), 10 * 60_000);
      expect(reached, stderr).toBe(true);
      if (c.child) {
        const child = c.child;
        const running = await waitFor(
          async () => (await groupProcesses(pgid)).some((p) => child.test(p.comm)),
          60_000,
        );
        expect(running, `no ${child} in the run's process group; stderr:\n${stderr}`).toBe(true);
      }
      // Ctrl-C reaches the whole group; kill PID only kpatch-build.
      if (signal === 'SIGINT') process.kill(-pgid, 'SIGINT');
      else process.kill(pgid, 'SIGTERM');
      const result = await run;

      expect(result.exitCode, stderr).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(stderr).toContain(`kpatch-build: ERROR: interrupted by ${signal}`);
      expect(shown(c.next), stderr).toBe(false);
      expect(stderr).not.toMatch(/internal error|make was interrupted|work directory kept/);
      // The tree as it was: sources, no backup or journal, the lock released.
      expect(await Promise.all(sources.map((f) => sha256(join(tree, f))))).toEqual(before);
      expect((await readdir(join(tree, 'fs/proc'))).sort()).toEqual(procBefore);
      expect(existsSync(join(tree, '.kpatch-build-restore.json'))).toBe(false);
      expect(existsSync(join(tree, '.kpatch-build.lock'))).toBe(false);
      // No work directory, scratch or VM files of the run left (tsx keeps its own cache there).
      expect((await readdir(runTmp)).filter((f) => !f.startsWith('tsx'))).toEqual([]);
      // Every process of the run gone when it exits (make's and the recipes' children too: a compiler
      // left to finish alone would still run), allowing a moment for the kernel to reap them.
      const gone = await waitFor(async () => (await groupProcesses(pgid)).length === 0, 200);
      expect(gone, JSON.stringify(await groupProcesses(pgid))).toBe(true);
    },
  );

  it('leaves a tree and lock the next run uses at once', async () => {
    const out = join(scratch, 'out');
    const result = await runBin('kpatch-build', ['-s', tree, '-o', out, `${EXAMPLES}cmdline.patch`], {
      TMPDIR: await mkdtemp(join(scratch, 'tmp-')),
    });
    expect(result.stderr).not.toContain('waiting for another kpatch-build');
    expect(result.stderr).not.toContain('an earlier run was killed');
    expect(result.exitCode, result.stderr).toBe(0);
  });
});
