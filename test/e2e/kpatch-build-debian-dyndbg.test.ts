import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareTarget } from '../../src/distro/prepare-target.js';
import type { TargetKernel } from '../../src/distro/target.js';
import { findSection, parseElf } from '../../src/elf/index.js';
import { verifyLivepatch } from '../../src/verify/verify-livepatch.js';
import { REPO } from './support/paths.js';
import { runBin } from './support/run-bin.js';

const PATCH = `${REPO}test/fixtures/patches/dyndbg-lines-moved.patch`;
/** sizeof(struct _ddebug) on 6.1 x86_64: four pointers, the lineno/class/flags word, a static key. */
const DDEBUG_SIZE = 56;

// Debian builds with CONFIG_DYNAMIC_DEBUG=y: four lines inserted into show_refcnt() move __LINE__ in the
// pr_debug() descriptors of every function below it (issue 12). The same patch changes the pr_debug()
// formats of the init_module/finit_module syscalls: their descriptors come with them and answer to
// /proc/dynamic_debug/control in the VM.
describe('kpatch-build --distro debian: a patch above pr_debug() calls', () => {
  let target: TargetKernel;
  let out: string;

  beforeAll(async () => {
    target = await prepareTarget({ kind: 'debian', release: 'latest' });
    out = await mkdtemp(join(tmpdir(), 'e2e-dyndbg-'));
  });

  it('patches only the changed functions, carries their descriptors, and works under dyndbg control', async () => {
    const result = await runBin('kpatch-build', [
      '--distro',
      'debian',
      '-a',
      target.release,
      '-o',
      out,
      PATCH,
    ]);
    const lines = result.stderr.split('\n');
    expect(result.exitCode, result.stderr).toBe(0);
    const changed = lines.filter((l) => l.startsWith('kernel/module/main.o: changed function: ')).sort();
    // __do_sys_*init_module are `static inline`, so notrace: their syscall wrappers are patched instead,
    // and they are copied with their descriptors.
    expect(changed).toEqual([
      'kernel/module/main.o: changed function: __ia32_sys_finit_module',
      'kernel/module/main.o: changed function: __ia32_sys_init_module',
      'kernel/module/main.o: changed function: __x64_sys_finit_module',
      'kernel/module/main.o: changed function: __x64_sys_init_module',
      'kernel/module/main.o: changed function: show_refcnt',
    ]);
    const module = join(out, 'livepatch-dyndbg-lines-moved.ko');
    // The livepatch registers its own copies of the two syscalls' descriptors, and no others.
    const dyndbg = findSection(parseElf(await readFile(module)), '__dyndbg');
    expect(dyndbg?.size).toBe(2 * DDEBUG_SIZE);

    const binfmt = join(target.modulesDir!, 'kernel/fs/binfmt_misc.ko');
    const counted = '"(livepatched)$"';
    const verified = await verifyLivepatch({
      kernel: target.image,
      modules: [module],
      extraModules: [binfmt],
      checks: [
        // show_refcnt, below the inserted lines' neighbours: every module's refcnt says so.
        'cat /sys/module/*/refcnt | grep -q " livepatched$"',
        // Reloading a module runs (f)init_module: its pr_debug(), enabled through dyndbg control, prints
        // the patched format only while the livepatch is in.
        'echo "func __do_sys_finit_module +p" > /proc/dynamic_debug/control; ' +
          'echo "func __do_sys_init_module +p" > /proc/dynamic_debug/control; ' +
          `rmmod binfmt_misc 2>/dev/null; n=$(dmesg | grep -c ${counted}); ` +
          `insmod /klpv/modules/binfmt_misc.ko && test "$(dmesg | grep -c ${counted})" -gt "$n"`,
      ],
      unload: true,
    });
    expect(
      verified.steps.filter((s) => !s.ok),
      verified.dmesg.join('\n'),
    ).toEqual([]);
    expect(verified.ok).toBe(true);
    // Both the kernel's descriptor and the livepatch's copy answer to the same query.
    expect(
      verified.dmesg.some((l) => /finit_module: fd=\d+, uargs=\S+, flags=0 \(livepatched\)$/.test(l)),
    ).toBe(true);
  });
});
