import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareTarget } from '../../src/distro/prepare-target.js';
import type { TargetKernel } from '../../src/distro/target.js';
import { REPO } from './support/paths.js';
import { runBin } from './support/run-bin.js';

const PATCHES = `${REPO}test/fixtures/patches/`;

interface HeaderSummary {
  headers: string[];
  indexed: number;
  includers: number;
  pruned: number;
  compiled: string[];
}

// Header changes on Debian's real kernel without --full-build: the configured objects and their include
// graph find the includers, those using nothing the change defines are pruned, the rest compile twice;
// the module must load into Debian's kernel and change its behaviour.
describe('kpatch-build --distro debian with header changes', () => {
  let target: TargetKernel;
  let out: string;
  const kpatchBuild = (...args: string[]) =>
    runBin('kpatch-build', ['--distro', 'debian', '-a', target.release, '-o', out, ...args]);

  beforeAll(async () => {
    target = await prepareTarget({ kind: 'debian', release: 'latest' });
    out = await mkdtemp(join(tmpdir(), 'e2e-debian-headers-'));
  });

  it.each([
    {
      patch: 'debian-proc-header',
      // a new function in generic.c, its prototype in internal.h, a call from stat.c
      header: 'fs/proc/internal.h',
      // no includer of internal.h uses the new name before the patch: generic.c and stat.c are compiled
      // as changed .c files, not as includers (stat.c includes internal.h only once patched)
      compiled: [],
      reported: [
        'fs/proc/generic.o: new function: proc_show_livepatch_mark',
        'fs/proc/stat.o: changed function: show_stat',
      ],
      check: 'grep -q "^livepatch 1$" /proc/stat',
    },
    {
      patch: 'debian-sched-inline',
      // an inline in include/linux/sched.h, used by the task dumps (SysRq-t, /sys/kernel/debug/sched/debug)
      header: 'include/linux/sched.h',
      compiled: ['kernel/rcu/tree.o', 'kernel/sched/build_utility.o', 'kernel/sched/core.o'],
      reported: ['kernel/sched/core.o: changed function: sched_show_task'],
      check:
        'mount -t debugfs none /sys/kernel/debug 2>/dev/null; grep -q "^ K " /sys/kernel/debug/sched/debug',
    },
  ])(
    'builds $patch without a kernel build and proves it in the VM',
    async ({ patch, header, compiled, reported, check }) => {
      const result = await kpatchBuild('--json', '--verify', '--check', check, `${PATCHES}${patch}.patch`);
      const lines = result.stderr.split('\n');
      for (const line of reported) expect(lines, result.stderr).toContain(line);
      expect(lines).toContain('verify: PASS check #1 passes with the livepatch: ok');
      expect(lines).toContain('verify: PASS check #1 fails after unloading: failed as expected (status 1)');
      expect(result.exitCode).toBe(0);
      const summary = (JSON.parse(result.stdout) as { headers: HeaderSummary }).headers;
      expect(summary.headers).toEqual([header]);
      expect(summary.indexed).toBeGreaterThan(10_000); // Debian's whole configuration was looked at
      expect(summary.compiled).toEqual(compiled);
      expect(summary.pruned).toBe(summary.includers - compiled.length);
    },
  );

  it('stops a comment-only header change before compiling: no object code changes (exit 3)', async () => {
    const result = await kpatchBuild(`${PATCHES}debian-header.patch`);
    expect(result.stderr).toMatch(
      /include\/linux\/seq_file\.h changes no object's code: its \d+ includers use nothing it defines/,
    );
    expect(result.stderr).not.toContain('Building original source');
    expect(result.exitCode).toBe(3);
  });
});
