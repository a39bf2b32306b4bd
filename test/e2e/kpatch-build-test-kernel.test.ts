import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareTarget } from '../../src/distro/prepare-target.js';
import type { TargetKernel } from '../../src/distro/target.js';
import { verifyLivepatch } from '../../src/verify/verify-livepatch.js';
import { EXAMPLES, REPO } from './support/paths.js';
import { runBin } from './support/run-bin.js';

const PATCHES = `${REPO}test/fixtures/patches/`;

// kpatch-build -s on the built test kernel tree: the patch is applied to the tree for the patched
// build and the tree is restored; the module must load into that kernel and change its behaviour.
let target: TargetKernel;
let out: string;

async function treeFingerprint(tree: string, files: string[]): Promise<string[]> {
  return Promise.all(
    files.map(
      async (f) =>
        `${f} ${createHash('sha256')
          .update(await readFile(join(tree, f)))
          .digest('hex')}`,
    ),
  );
}

beforeAll(async () => {
  target = await prepareTarget({ kind: 'test' });
  out = await mkdtemp(join(tmpdir(), 'e2e-kpatch-build-'));
});

describe('kpatch-build -s on the test kernel', () => {
  it('builds the cmdline patch into a module that changes /proc/cmdline, and restores the tree', async () => {
    const tree = target.sourceDir!;
    const before = await treeFingerprint(tree, ['fs/proc/cmdline.c', 'fs/proc/cmdline.o']);
    const result = await runBin('kpatch-build', [
      '-s',
      tree,
      '-o',
      out,
      '--json',
      `${EXAMPLES}cmdline.patch`,
    ]);
    expect(result.stderr.split('\n').filter((l) => !l.startsWith('work directory'))).toEqual([
      'Testing patch file(s)',
      'Building original source',
      'Building patched source',
      'Extracting new and modified ELF sections',
      'fs/proc/cmdline.o: changed function: cmdline_proc_show',
      'Patched objects: vmlinux',
      'Building patch module: livepatch-cmdline.ko',
      `SUCCESS: ${out}/livepatch-cmdline.ko`,
    ]);
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as { module: string; changes: unknown[] };
    expect(report.changes).toEqual([
      {
        object: 'fs/proc/cmdline.o',
        parent: 'vmlinux',
        changed: ['cmdline_proc_show'],
        added: [],
        untraced: [],
        ignored: [],
      },
    ]);
    expect(await treeFingerprint(tree, ['fs/proc/cmdline.c', 'fs/proc/cmdline.o'])).toEqual(before);
    expect((await readdir(join(tree, 'fs/proc'))).filter((f) => f.includes('kpatch'))).toEqual([]);

    const verified = await verifyLivepatch({
      kernel: target.image,
      modules: [report.module],
      checks: ['grep -q " livepatch=1$" /proc/cmdline'],
      unload: true,
    });
    expect(verified.steps.filter((s) => !s.ok)).toEqual([]);
    expect(verified.ok).toBe(true);
  });

  it('includes a new static function called by the changed one', async () => {
    const result = await runBin('kpatch-build', [
      '-s',
      target.sourceDir!,
      '-o',
      out,
      `${PATCHES}new-static-function.patch`,
    ]);
    expect(result.stderr).toContain('fs/proc/cmdline.o: changed function: cmdline_proc_show');
    expect(result.stderr).toContain('fs/proc/cmdline.o: new function: cmdline_add_marker');
    expect(result.exitCode).toBe(0);
    const verified = await verifyLivepatch({
      kernel: target.image,
      modules: [join(out, 'livepatch-new-static-function.ko')],
      checks: ['grep -q " new_function=1$" /proc/cmdline'],
      unload: true,
    });
    expect(verified.steps.filter((s) => !s.ok)).toEqual([]);
  });

  it.each([
    [
      'callbacks',
      'cat /proc/cmdline; grep -q " callback=1$" /proc/cmdline',
      'new function: cmdline_pre_patch',
    ],
    [
      'shadow-variable',
      // The count lives in a shadow variable: the third read sees 3.
      'cat /proc/cmdline >/dev/null; cat /proc/cmdline >/dev/null; grep -q " reads=3$" /proc/cmdline',
      'changed function: cmdline_proc_show',
    ],
  ])('builds %s into a module that works in the VM', async (patch, check, reported) => {
    const result = await runBin('kpatch-build', [
      '-s',
      target.sourceDir!,
      '-o',
      out,
      `${PATCHES}${patch}.patch`,
    ]);
    expect(result.stderr).toContain(reported);
    expect(result.exitCode).toBe(0);
    const verified = await verifyLivepatch({
      kernel: target.image,
      modules: [join(out, `livepatch-${patch}.ko`)],
      checks: [check],
      unload: true,
    });
    expect(verified.steps.filter((s) => !s.ok)).toEqual([]);
  });

  interface VmCase {
    patch: string;
    reported: string[];
    checks: string[];
    lateModules?: string[];
    allowedWarnings?: RegExp[];
  }
  const VM_CASES: VmCase[] = [
    {
      // Two objects: fs/proc/version.o adds a global function, fs/proc/cmdline.o calls it.
      patch: 'new-global-function',
      reported: [
        'fs/proc/cmdline.o: changed function: cmdline_proc_show',
        'fs/proc/version.o: new function: proc_version_mark',
      ],
      checks: ['grep -q " global_function=$(uname -r)$" /proc/cmdline'],
    },
    {
      // The new handler must use the running kernel's `stfu`, which the original set before the patch:
      // the pre-patch check run writes 4 (stfu |= 4), the patched handler then prints stfu=4.
      patch: 'static-local',
      reported: ['fs/drop_caches.o: changed function: drop_caches_sysctl_handler'],
      checks: [
        'n=$(dmesg | grep -c "drop_caches: stfu=4$"); echo 4 > /proc/sys/vm/drop_caches; test "$(dmesg | grep -c "drop_caches: stfu=4$")" -gt "$n"',
      ],
    },
    {
      // A WARN that fires (the kernel must find the module's bug table entry, or it is an invalid
      // opcode oops), a BUG_ON, a spinlock and a lock-prefixed atomic (.smp_locks on this SMP kernel).
      patch: 'warn-spinlock',
      reported: ['fs/proc/cmdline.o: changed function: cmdline_proc_show'],
      checks: [
        'cat /proc/cmdline >/dev/null; grep -q " reads=2$" /proc/cmdline && dmesg | grep -q "WARNING: CPU: [0-9]* PID: [0-9]* at fs/proc/cmdline.c:[0-9]* cmdline_proc_show+0x[0-9a-f]*/0x[0-9a-f]* \\[livepatch_warn_spinlock\\]"',
      ],
      allowedWarnings: [/ at fs\/proc\/cmdline\.c:\d+ cmdline_proc_show\+.*\[livepatch_warn_spinlock\]/],
    },
    {
      // __do_sys_newuname is notrace (SYSCALL_DEFINE's inline body, kept out of line): its caller is patched.
      patch: 'syscall-body',
      reported: [
        'kernel/sys.o: changed function: __x64_sys_newuname',
        'kernel/sys.o: __do_sys_newuname() cannot be traced (notrace): patching its callers __x64_sys_newuname with the new copy',
      ],
      checks: ['test "$(uname -m)" = livepatched'],
    },
    {
      // Late patching: the livepatch is loaded first, the sample module after it.
      patch: 'module-late',
      reported: [
        'samples/kobject/kobject-example.o: changed function: foo_show',
        'Patched objects: kobject_example',
      ],
      checks: ['grep -q "^0 livepatched$" /sys/kernel/kobject_example/foo'],
      lateModules: ['samples/kobject/kobject-example.ko'],
    },
  ];

  it.each(VM_CASES.map((c) => [c.patch, c] as const))(
    'builds %s into a module that works in the VM',
    async (_, c) => {
      const tree = target.sourceDir!;
      const result = await runBin('kpatch-build', ['-s', tree, '-o', out, `${PATCHES}${c.patch}.patch`]);
      const lines = result.stderr.split('\n');
      for (const line of c.reported) expect(lines, result.stderr).toContain(line);
      expect(result.exitCode).toBe(0);
      const verified = await verifyLivepatch({
        kernel: target.image,
        modules: [join(out, `livepatch-${c.patch}.ko`)],
        lateModules: (c.lateModules ?? []).map((m) => join(tree, m)),
        checks: c.checks,
        unload: true,
        ...(c.allowedWarnings ? { allowedWarnings: c.allowedWarnings } : {}),
      });
      expect(verified.steps.filter((s) => !s.ok)).toEqual([]);
      expect(verified.ok).toBe(true);
    },
  );

  it('keeps the work directory and its build.log when a compile fails, and restores the tree', async () => {
    const tree = target.sourceDir!;
    const before = await treeFingerprint(tree, ['fs/proc/cmdline.c']);
    const result = await runBin('kpatch-build', ['-s', tree, '-o', out, `${PATCHES}compile-error.patch`]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/ERROR: compiling fs\/proc\/cmdline\.o failed: .*undefined_thing/);
    const kept = /work directory kept: (\S+)/.exec(result.stderr)?.[1];
    const log = await readFile(join(kept!, 'build.log'), 'utf8');
    expect(log).toMatch(/\] Building patched source\n.*\] failed: compiling fs\/proc\/cmdline\.o failed/);
    expect(await treeFingerprint(tree, ['fs/proc/cmdline.c'])).toEqual(before);
  });

  it('--oot-module patches an out-of-tree module built against the tree, and leaves its source as it was', async () => {
    const tree = target.sourceDir!;
    const src = await mkdtemp(join(tmpdir(), 'e2e-oot-'));
    await cp(`${REPO}test/fixtures/oot`, src, { recursive: true });
    await execa('make', ['-C', tree, `M=${src}`, 'modules'], { reject: true });
    const before = await treeFingerprint(src, ['oot_demo.c', 'oot_demo.o']);
    const result = await runBin('kpatch-build', [
      '-s',
      tree,
      '-o',
      out,
      '--oot-module',
      join(src, 'oot_demo.ko'),
      '--oot-module-src',
      src,
      '--verify',
      '--check',
      'cat /proc/oot_demo; grep -q "^oot_demo 2 (livepatched)$" /proc/oot_demo',
      `${PATCHES}oot-module.patch`,
    ]);
    const lines = result.stderr.split('\n');
    expect(lines, result.stderr).toContain(`${src}/oot_demo.o: changed function: oot_demo_show`);
    expect(lines).toContain('Patched objects: oot_demo');
    expect(lines).toContain('verify:        | oot_demo 2 (livepatched)');
    expect(result.exitCode).toBe(0);
    expect(await treeFingerprint(src, ['oot_demo.c', 'oot_demo.o'])).toEqual(before);
  });

  it('-d prints each compile and make command and keeps the work directory', async () => {
    const result = await runBin('kpatch-build', [
      '-s',
      target.sourceDir!,
      '-o',
      out,
      '-d',
      `${EXAMPLES}cmdline.patch`,
    ]);
    expect(result.exitCode).toBe(0);
    const commands = result.stderr.split('\n').filter((l) => l.startsWith('+ '));
    expect(
      commands.filter((c) => /&& gcc .* -ffunction-sections -fdata-sections .*-c /.test(c)),
    ).toHaveLength(2);
    expect(commands.some((c) => / M=\S+\/module KBUILD_MODPOST_WARN=1 modules$/.test(c))).toBe(true);
    expect(result.stderr).toMatch(/work directory kept: /);
  });

  it('after a run killed with SIGKILL mid-build, the next run restores the tree first and succeeds', async () => {
    const tree = target.sourceDir!;
    expect(existsSync(join(tree, '.kpatch-build-restore.json'))).toBe(false);
    const before = await treeFingerprint(tree, ['fs/proc/cmdline.c']);
    const killed = execa(
      'node',
      [`${REPO}bin/kpatch-build.js`, '-s', tree, '-o', out, `${EXAMPLES}cmdline.patch`],
      {
        reject: false,
        env: { CI: 'true' },
      },
    );
    let stderr = '';
    killed.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Killed once the patch is applied: the restore record exists from then until the tree is put back.
    const poll = setInterval(() => {
      if (existsSync(join(tree, '.kpatch-build-restore.json')) && !killed.killed) killed.kill('SIGKILL');
    }, 2);
    await killed;
    clearInterval(poll);
    expect(stderr).toContain('Building patched source');
    // It died between saving the original and restoring it: the record and the saved original are left.
    expect(existsSync(join(tree, '.kpatch-build-restore.json'))).toBe(true);
    expect(existsSync(join(tree, 'fs/proc/.cmdline.c.kpatch-orig'))).toBe(true);

    const next = await runBin('kpatch-build', ['-s', tree, '-o', out, `${EXAMPLES}cmdline.patch`]);
    expect(next.stderr).toContain(
      `restored fs/proc/cmdline.c in ${tree}: an earlier run was killed while its patches were applied`,
    );
    expect(next.exitCode, next.stderr).toBe(0);
    expect(await treeFingerprint(tree, ['fs/proc/cmdline.c'])).toEqual(before);
    expect((await readdir(join(tree, 'fs/proc'))).filter((f) => f.includes('kpatch'))).toEqual([]);
  });

  it('--full-build brings the tree up to date with make first, and reports a make failure with its log', async () => {
    const tree = target.sourceDir!;
    const built = await runBin('kpatch-build', [
      '-s',
      tree,
      '-o',
      out,
      '--full-build',
      '-t',
      'vmlinux',
      `${EXAMPLES}cmdline.patch`,
    ]);
    expect(built.stderr.split('\n').slice(0, 2)).toEqual([
      'Building the kernel tree (--full-build)',
      'Testing patch file(s)',
    ]);
    expect(built.exitCode, built.stderr).toBe(0);
    const broken = await runBin('kpatch-build', [
      '-s',
      tree,
      '-o',
      out,
      '--full-build',
      '-t',
      'no-such-target',
      `${EXAMPLES}cmdline.patch`,
    ]);
    expect(broken.stderr).toMatch(/No rule to make target 'no-such-target'/);
    expect(broken.stderr).toMatch(/log: .*\.kpatch-build-full\.log/);
    expect(broken.exitCode).toBe(1);
  });

  it('--verify proves the module in a VM, loading the module it patches after it', async () => {
    const result = await runBin('kpatch-build', [
      '-s',
      target.sourceDir!,
      '-o',
      out,
      '-n',
      'verify-late',
      '--json',
      '--verify',
      '--check',
      'cat /sys/kernel/kobject_example/foo; grep -q "^0 livepatched$" /sys/kernel/kobject_example/foo',
      `${PATCHES}module-late.patch`,
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stderr.split('\n');
    expect(lines).toContain('verify: PASS load kobject-example.ko after the patch: ok');
    expect(lines).toContain('verify:        | 0 livepatched');
    expect(lines).toContain('verify: PASS check #1 fails after unloading: failed as expected (status 1)');
    const report = JSON.parse(result.stdout) as { verification: { ok: boolean; steps: unknown[] } };
    expect(report.verification.ok).toBe(true);
  });

  it('--verify exits 4 with the failing step when a check never passes', async () => {
    const result = await runBin('kpatch-build', [
      '-s',
      target.sourceDir!,
      '-o',
      out,
      '--verify',
      '--check',
      'grep -q " never-there$" /proc/cmdline',
      `${EXAMPLES}cmdline.patch`,
    ]);
    expect(result.stderr).toContain(`SUCCESS: ${out}/livepatch-cmdline.ko`);
    expect(result.stderr).toMatch(/ERROR: check #1 passes with the livepatch: /);
    expect(result.exitCode).toBe(4);
  });

  it('replaces v1 with a cumulative v2 (atomic replace is the default)', async () => {
    const tree = target.sourceDir!;
    const v1 = await runBin('kpatch-build', [
      '-s',
      tree,
      '-o',
      out,
      '-n',
      'cmdline-v1',
      `${EXAMPLES}cmdline.patch`,
    ]);
    const v2 = await runBin('kpatch-build', [
      '-s',
      tree,
      '-o',
      out,
      '-n',
      'cmdline-v2',
      `${PATCHES}cmdline-v2.patch`,
    ]);
    expect([v1.exitCode, v2.exitCode]).toEqual([0, 0]);
    const verified = await verifyLivepatch({
      kernel: target.image,
      modules: [join(out, 'cmdline-v1.ko'), join(out, 'cmdline-v2.ko')],
      checks: [
        'grep -q " livepatch=2$" /proc/cmdline',
        'test -e /sys/kernel/livepatch/cmdline_v2 && test ! -e /sys/kernel/livepatch/cmdline_v1',
      ],
      unload: true,
    });
    expect(verified.steps.filter((s) => !s.ok)).toEqual([]);
    expect(verified.dmesg.join('\n')).toMatch(/cmdline_v1/);
  });

  it.each([
    ['changed-global-initialiser', 2, /kernel\/panic\.o: panic_timeout: the initial value of panic_timeout/],
    [
      'init-function',
      2,
      /fs\/proc\/cmdline\.o: \.init\.text: .*__init\/__exit code and data cannot be livepatched/,
    ],
    ['line-numbers-only', 3, /ERROR: no functional changes found/],
    ['does-not-apply', 65, /fs\/proc\/cmdline\.c: hunk #1 @@ -6,8 \+6,7 @@: context mismatch/],
  ])('refuses %s with exit %i and a message naming the place', async (patch, exitCode, message) => {
    const tree = target.sourceDir!;
    const files = ['fs/proc/cmdline.c', 'kernel/panic.c', 'kernel/fork.c'];
    const before = await treeFingerprint(tree, files);
    const result = await runBin('kpatch-build', ['-s', tree, '-o', out, `${PATCHES}${patch}.patch`]);
    expect(result.stderr).toMatch(message);
    expect(result.exitCode).toBe(exitCode);
    expect(await treeFingerprint(tree, files)).toEqual(before);
  });
});
