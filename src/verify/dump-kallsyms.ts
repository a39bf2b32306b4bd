import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { VerifyError } from '../errors.js';
import { writeCpioNewcGz } from './cpio-newc.js';
import { DRAIN_SERIAL } from './init-script.js';
import type { Accel } from './run-qemu.js';
import { runQemu } from './run-qemu.js';

export interface DumpKallsymsOptions {
  kernel: string;
  busybox?: string;
  accel?: Accel;
  timeoutMs?: number;
}

// The guest compresses kallsyms onto a second serial port in raw mode, which qemu writes to a file:
// quicker and cleaner than the console, which the kernel shares.
const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
stty -F /dev/ttyS1 raw -echo
gzip -1 -c /proc/kallsyms > /dev/ttyS1
echo "KLPV kallsyms - $?"
${DRAIN_SERIAL}
drain_serial
reboot -f
`;

/**
 * Boots the image once and returns its /proc/kallsyms (with nokaslr, so addresses are the link-time
 * ones). This is the very table the livepatch loader searches, in the order it counts sympos.
 */
export async function dumpKallsyms(options: DumpKallsymsOptions): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'klp-kallsyms-'));
  try {
    const busybox = await readFile(options.busybox ?? '/bin/busybox');
    const initrd = join(work, 'initrd.gz');
    const dataFile = join(work, 'kallsyms.gz');
    await writeFile(
      initrd,
      writeCpioNewcGz([
        ...['bin', 'dev', 'proc'].map((path) => ({ path, kind: 'dir' as const, mode: 0o755 })),
        { path: 'dev/console', kind: 'chardev', mode: 0o600, rdev: { major: 5, minor: 1 } },
        { path: 'dev/ttyS1', kind: 'chardev', mode: 0o600, rdev: { major: 4, minor: 65 } },
        { path: 'bin/busybox', kind: 'file', mode: 0o755, data: busybox },
        { path: 'init', kind: 'file', mode: 0o755, data: INIT },
      ]),
    );
    const run = await runQemu({
      kernel: options.kernel,
      initrd,
      append: 'console=ttyS0 quiet nokaslr panic=-1',
      accel: options.accel ?? 'tcg',
      timeoutMs: options.timeoutMs ?? 180_000,
      extraArgs: ['-chardev', `file,id=data,path=${dataFile}`, '-device', 'isa-serial,chardev=data'],
    });
    if (!run.console.includes('KLPV kallsyms - 0')) {
      throw new VerifyError(
        `could not read kallsyms from ${options.kernel}${run.timedOut ? ' (timed out)' : ''}`,
        {
          hint:
            'the image must boot under qemu with an initramfs; last console lines: ' +
            run.console.trim().split('\n').slice(-3).join(' | '),
        },
      );
    }
    const text = gunzipSync(await readFile(dataFile)).toString('latin1');
    if (!/^[0-9a-f]{16} [A-Za-z] \S+/m.test(text)) {
      throw new VerifyError(`kallsyms read from ${options.kernel} has no symbols`, {
        hint: 'is CONFIG_KALLSYMS enabled in that kernel?',
      });
    }
    if (!/^ffffffff[0-9a-f]{8} [Tt] /m.test(text)) {
      throw new VerifyError(`kallsyms read from ${options.kernel} shows no kernel text addresses`, {
        hint: 'addresses were hidden (kptr_restrict); the dump runs as root with nokaslr and should see them',
      });
    }
    return text;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
