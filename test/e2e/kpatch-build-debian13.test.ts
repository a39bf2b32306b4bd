import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSection, readElfFile } from '../../src/elf/index.js';
import { EXAMPLES, REPO } from './support/paths.js';
import { runBin } from './support/run-bin.js';

const RELEASE = '6.12.118+deb13-amd64';
const PATCHES = `${REPO}test/fixtures/patches/`;

// The whole command for Debian 13 (trixie) from this bookworm host, as a user runs it: the tool's archive
// client fetches the release, the host's gcc-12 is not the kernel's gcc-14 so everything compiles in a
// trixie build root, and --verify boots Debian's own 6.12 image (IBT, call thunks, prefix padding) in qemu.
// Downloads, the build root, the prepared tree, kallsyms and the sealed list are the shared cache's.
describe(`kpatch-build --distro debian -a ${RELEASE} (Debian 13, IBT kernel, from a bookworm host)`, () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'e2e-kpatch-debian13-'));
  });
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  const build = (patch: string, extra: string[] = []) =>
    runBin('kpatch-build', ['--distro', 'debian', '-a', RELEASE, '-j2', '-o', out, ...extra, patch]);

  it('builds examples/cmdline.patch in a trixie build root and --verify proves it on the trixie kernel', async () => {
    const result = await build(`${EXAMPLES}cmdline.patch`, [
      '--verify',
      '--check',
      'grep -q " livepatch=1$" /proc/cmdline',
    ]);
    expect(result.stderr).toContain('compiling in a trixie build root');
    expect(result.stderr).toContain('fs/proc/cmdline.o: changed function: cmdline_proc_show');
    expect(result.stderr).toContain(`SUCCESS: ${out}/livepatch-cmdline.ko`);
    expect(result.stderr).toMatch(
      /Verifying livepatch-cmdline\.ko in a VM \(.*vmlinuz-6\.12\.118\+deb13-amd64\)/,
    );
    expect(result.stderr).toContain('verify: PASS check #1 fails before loading');
    expect(result.stderr).toContain('verify: PASS check #1 passes with the livepatch: ok');
    expect(result.stderr).toContain('verify: PASS check #1 fails after unloading');
    expect(result.stderr).toContain('verify: SUCCESS');
    expect(result.exitCode).toBe(0);
    // kbuild's link-time objtool processed the module (IBT kernels delay objtool to link time).
    const elf = await readElfFile(join(out, 'livepatch-cmdline.ko'));
    for (const name of ['.return_sites', '.call_sites', '.orc_unwind_ip'])
      expect(findSection(elf, name), name).toBeDefined();
  });

  interface Trixie6Case {
    name: string;
    patch: string;
    reported: RegExp;
    check: string;
  }
  // Bookworm's cases on 6.12 (restated where 6.12's file differs: patches apply without fuzz), each proven
  // in the VM through --verify.
  const CASES: Trixie6Case[] = [
    {
      name: 'new-static-function',
      patch: `${PATCHES}debian13-new-static-function.patch`,
      reported: /fs\/proc\/cmdline\.o: new function: cmdline_add_marker/,
      check: 'grep -q " new_function=1$" /proc/cmdline',
    },
    {
      // The check's run before the patch sets the running kernel's stfu to 4; the new handler must see it.
      name: 'static-local',
      patch: `${PATCHES}static-local.patch`,
      reported: /fs\/drop_caches\.o: changed function: drop_caches_sysctl_handler/,
      check:
        'n=$(dmesg | grep -c "drop_caches: stfu=4$"); echo 4 > /proc/sys/vm/drop_caches; test "$(dmesg | grep -c "drop_caches: stfu=4$")" -gt "$n"',
    },
    {
      // A fix in mm/ (examples/dirtycow.patch restated for 6.12): with it loaded, a forced write through
      // /proc/PID/mem into a read-only private mapping (what ptrace does) must still reach the private copy.
      name: 'debian13-dirtycow',
      patch: `${PATCHES}debian13-dirtycow.patch`,
      reported: /mm\/gup\.o: changed function: /,
      check: `test -d /sys/kernel/livepatch/livepatch_debian13_dirtycow && a=$(awk '$2 == "r--p" && $3 == "00000000" { split($1, r, "-"); print r[1]; exit }' /proc/$$/maps) && printf Z | dd of=/proc/$$/mem bs=1 seek=$((0x$a)) conv=notrunc 2>/dev/null && test "$(dd if=/proc/$$/mem bs=1 skip=$((0x$a)) count=1 2>/dev/null)" = Z`,
    },
    {
      // kpatch's callback macros on 6.12: the pre-patch callback runs before the patch is enabled and
      // the post-patch one after every function is switched, in that order.
      name: 'debian13-callbacks',
      patch: `${PATCHES}debian13-callbacks.patch`,
      reported: /fs\/proc\/cmdline\.o: new function: cmdline_pre_patch/,
      check: 'grep -q " callback=1 post_patch=1$" /proc/cmdline',
    },
    {
      // klp_shadow_get_or_alloc on the running kernel: the count lives beside saved_command_line and
      // survives from one read to the next (the third read shows 3).
      name: 'debian13-shadow-variable',
      patch: `${PATCHES}debian13-shadow-variable.patch`,
      reported: /fs\/proc\/cmdline\.o: changed function: cmdline_proc_show/,
      check: 'cat /proc/cmdline >/dev/null; cat /proc/cmdline >/dev/null; grep -q " reads=3$" /proc/cmdline',
    },
    {
      // A header change without a kernel build (docs/header-changes.md): an inline in sched.h used by
      // the task dumps; of its ~14,000 includers only the users compile, one of them in dm-vdo, a module
      // loaded after the livepatch with the modules it depends on loaded first.
      name: 'debian13-sched-inline',
      patch: `${PATCHES}debian13-sched-inline.patch`,
      reported: /kernel\/sched\/core\.o: changed function: sched_show_task/,
      check:
        'mount -t debugfs none /sys/kernel/debug 2>/dev/null; grep -q "^ K " /sys/kernel/debug/sched/debug',
    },
  ];

  it.each(CASES.map((c) => [c.name, c] as const))(
    'builds %s and --verify proves it on the trixie kernel',
    async (_, c) => {
      const result = await build(c.patch, ['--verify', '--check', c.check]);
      expect(result.stderr).toMatch(c.reported);
      expect(result.stderr).toContain('verify: PASS check #1 passes with the livepatch: ok');
      expect(result.stderr).toContain('verify: SUCCESS');
      expect(result.exitCode).toBe(0);
    },
  );

  it('late-patches binfmt_misc, a .ko.xz module of the trixie kernel loaded after the livepatch', async () => {
    const result = await build(`${PATCHES}debian13-module-object.patch`, [
      '--verify',
      '--check',
      'mount -t binfmt_misc none /proc/sys/fs/binfmt_misc 2>/dev/null; grep -q "^enabled (patched)$" /proc/sys/fs/binfmt_misc/status',
    ]);
    expect(result.stderr).toContain('fs/binfmt_misc.o: changed function: bm_status_read');
    expect(result.stderr).toContain('Patched objects: binfmt_misc');
    expect(result.stderr).toContain('verify: PASS load binfmt_misc.ko after the patch: ok');
    expect(result.stderr).toContain('verify: PASS check #1 passes with the livepatch: ok');
    expect(result.stderr).toContain('verify: SUCCESS');
    expect(result.exitCode).toBe(0);
  });

  it('refuses (exit 2) a patch taking the address of a function the kernel sealed at boot', async () => {
    const before = new Set(await readdir(out));
    const result = await build(`${PATCHES}debian13-sealed-address.patch`);
    expect(result.stderr).toMatch(
      /takes the address of vmlinux functions the kernel sealed at boot \(IBT\): calibrate_delay \(\.text\.cmdline_proc_show\+0x/,
    );
    expect(result.stderr).toContain('#CP');
    expect(result.exitCode).toBe(2);
    expect(await readdir(out)).toEqual([...before]); // no module shipped
    // The kept work directory (named in the error) is the user's to read; the test removes it.
    const kept = /work directory kept: (\S+)/.exec(result.stderr)?.[1];
    if (kept) await rm(kept, { recursive: true, force: true });
  });
});
