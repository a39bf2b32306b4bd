import { cp, mkdtemp, readFile } from 'node:fs/promises';
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

// kpatch-build for Debian's real kernel by release: no kernel build, the module must load into the
// kernel Debian ships and change its behaviour.
describe('kpatch-build --distro debian -a RELEASE', () => {
  let target: TargetKernel;
  let out: string;

  beforeAll(async () => {
    target = await prepareTarget({ kind: 'debian', release: 'latest' });
    out = await mkdtemp(join(tmpdir(), 'e2e-kpatch-debian-'));
  });

  it("builds examples/cmdline.patch into a module that changes /proc/cmdline on Debian's kernel", async () => {
    const result = await runBin('kpatch-build', [
      '--distro',
      'debian',
      '-a',
      target.release,
      '-o',
      out,
      `${EXAMPLES}cmdline.patch`,
    ]);
    expect(result.stderr).toContain('fs/proc/cmdline.o: changed function: cmdline_proc_show');
    expect(result.stderr).toContain('Patched objects: vmlinux');
    expect(result.stderr).toContain(`SUCCESS: ${out}/livepatch-cmdline.ko`);
    expect(result.exitCode).toBe(0);
    const verified = await verifyLivepatch({
      kernel: target.image,
      modules: [join(out, 'livepatch-cmdline.ko')],
      checks: ['grep -q " livepatch=1$" /proc/cmdline'],
      unload: true,
    });
    expect(verified.steps.filter((s) => !s.ok)).toEqual([]);
    expect(verified.ok).toBe(true);
  });

  interface DebianCase {
    patch: string;
    /** The patch file, when not test/fixtures/patches/<patch>.patch. */
    file?: string;
    reported: string;
    checks: string[];
    /** Target modules (paths under lib/modules/<release>) loaded after the livepatch. */
    lateModules?: string[];
  }
  const CASES: DebianCase[] = [
    {
      patch: 'new-static-function',
      reported: 'fs/proc/cmdline.o: new function: cmdline_add_marker',
      checks: ['grep -q " new_function=1$" /proc/cmdline'],
    },
    {
      patch: 'static-local',
      reported: 'fs/drop_caches.o: changed function: drop_caches_sysctl_handler',
      // The pre-patch run of the check sets the running kernel's stfu to 4; the new handler must see it.
      checks: [
        'n=$(dmesg | grep -c "drop_caches: stfu=4$"); echo 4 > /proc/sys/vm/drop_caches; test "$(dmesg | grep -c "drop_caches: stfu=4$")" -gt "$n"',
      ],
    },
    {
      // Late patching: binfmt_misc is a module of Debian's kernel, loaded after the livepatch.
      patch: 'debian-module-object',
      reported: 'Patched objects: binfmt_misc',
      checks: [
        'mount -t binfmt_misc none /proc/sys/fs/binfmt_misc && grep -q "^enabled (patched)$" /proc/sys/fs/binfmt_misc/status',
      ],
      lateModules: ['kernel/fs/binfmt_misc.ko'],
    },
    {
      // examples/dirtycow.patch tightens can_follow_write_pte() (inlined into follow_page_pte): with it
      // loaded, a forced write through /proc/PID/mem into a read-only private mapping (what ptrace
      // does) must still reach the process's private copy.
      patch: 'dirtycow',
      file: `${EXAMPLES}dirtycow.patch`,
      reported: 'mm/gup.o: changed function: follow_page_pte',
      checks: [
        `test -d /sys/kernel/livepatch/livepatch_dirtycow && a=$(awk '$2 == "r--p" && $3 == "00000000" { split($1, r, "-"); print r[1]; exit }' /proc/$$/maps) && printf Z | dd of=/proc/$$/mem bs=1 seek=$((0x$a)) conv=notrunc 2>/dev/null && test "$(dd if=/proc/$$/mem bs=1 skip=$((0x$a)) count=1 2>/dev/null)" = Z`,
      ],
    },
    {
      patch: 'callbacks',
      reported: 'fs/proc/cmdline.o: new function: cmdline_pre_patch',
      checks: ['grep -q " callback=1$" /proc/cmdline'],
    },
    {
      patch: 'shadow-variable',
      reported: 'fs/proc/cmdline.o: changed function: cmdline_proc_show',
      checks: [
        'cat /proc/cmdline >/dev/null; cat /proc/cmdline >/dev/null; grep -q " reads=3$" /proc/cmdline',
      ],
    },
  ];

  it.each(CASES.map((c) => [c.patch, c] as const))(
    "builds %s for Debian's kernel and it works there",
    async (_, c) => {
      const result = await runBin('kpatch-build', [
        '--distro',
        'debian',
        '-a',
        target.release,
        '-o',
        out,
        c.file ?? `${PATCHES}${c.patch}.patch`,
      ]);
      expect(result.stderr.split('\n'), result.stderr).toContain(c.reported);
      expect(result.exitCode).toBe(0);
      const verified = await verifyLivepatch({
        kernel: target.image,
        modules: [join(out, `livepatch-${c.patch}.ko`)],
        lateModules: (c.lateModules ?? []).map((m) => join(target.modulesDir!, m)),
        checks: c.checks,
        unload: true,
      });
      expect(verified.steps.filter((s) => !s.ok)).toEqual([]);
      expect(verified.ok).toBe(true);
    },
  );

  it("--oot-module patches a module built against Debian's headers (make -C .../build M=SRC), proven in the VM", async () => {
    const src = await mkdtemp(join(tmpdir(), 'e2e-oot-debian-'));
    await cp(`${REPO}test/fixtures/oot`, src, { recursive: true });
    // What a user does on the target: build against /lib/modules/<release>/build (the headers package).
    await execa('make', ['-C', target.buildDir, `M=${src}`, 'modules']);
    const source = await readFile(join(src, 'oot_demo.c'));
    const result = await runBin('kpatch-build', [
      '--distro',
      'debian',
      '-a',
      target.release,
      '-o',
      out,
      '--oot-module',
      join(src, 'oot_demo.ko'),
      '--oot-module-src',
      src,
      '--verify',
      '--check',
      'grep -q "^oot_demo 2 (livepatched)$" /proc/oot_demo',
      `${PATCHES}oot-module.patch`,
    ]);
    const lines = result.stderr.split('\n');
    expect(lines, result.stderr).toContain(`${src}/oot_demo.o: changed function: oot_demo_show`);
    expect(lines).toContain('Patched objects: oot_demo');
    expect(lines).toContain('verify: PASS load oot_demo.ko after the patch: ok');
    expect(lines).toContain('verify: PASS check #1 passes with the livepatch: ok');
    expect(lines).toContain('verify: PASS check #1 fails after unloading: failed as expected (status 1)');
    expect(result.exitCode).toBe(0);
    expect(await readFile(join(src, 'oot_demo.c'))).toEqual(source); // the module's source as it was
  });

  it.each([
    ['changed-global-initialiser', 2, /kernel\/panic\.o: panic_timeout: the initial value of panic_timeout/],
  ])('refuses %s (exit %i) with a message naming it', async (patch, exitCode, message) => {
    const result = await runBin('kpatch-build', [
      '--distro',
      'debian',
      '-a',
      'latest',
      '-o',
      out,
      `${PATCHES}${patch}.patch`,
    ]);
    expect(result.stderr).toMatch(message);
    expect(result.exitCode).toBe(exitCode);
  });

  it.each([
    [['--distro', 'gentoo', '-a', 'latest'], /distro "gentoo" is not supported/],
    [['--distro', 'centos', '-a', 'latest'], /"latest" is not a centos kernel release/],
    [['--distro', 'debian', '-a', '6.18.44-custom'], /"6\.18\.44-custom" is not a Debian kernel release/],
  ])('refuses %j before fetching anything (exit 66)', async (args, message) => {
    const result = await runBin('kpatch-build', [...args, `${EXAMPLES}cmdline.patch`]);
    expect(result.stderr).toMatch(message);
    expect(result.exitCode).toBe(66);
  });
});
