/**
 * Boots a kernel once with a tiny initramfs whose /init writes what we want to a second serial port in
 * raw mode (gzip-compressed), which qemu stores in a file: quicker and cleaner than the console, which
 * the kernel shares. Used to read /proc/kallsyms and the boot log of a target kernel.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { VerifyError } from '../errors.js';
import { writeCpioNewcGz } from './cpio-newc.js';
import { DRAIN_SERIAL } from './init-script.js';
import type { Accel } from './run-qemu.js';
import { runQemu } from './run-qemu.js';

export interface BootAndCollectOptions {
  kernel: string;
  busybox?: string;
  accel?: Accel;
  timeoutMs?: number;
}

export interface Collection {
  /** What the guest does after mounting /proc, e.g. `gzip -1 -c /proc/kallsyms > /dev/ttyS1`. */
  command: string;
  /** Names the "KLPV <label> - <status>" line the guest prints when the command has run. */
  label: string;
  /** The kernel command line (console=ttyS0 is part of it). */
  append: string;
  /** Says what could not be read, for the error: "kallsyms", "the sealed functions". */
  what: string;
}

function initScript(collection: Collection): string {
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
stty -F /dev/ttyS1 raw -echo
${collection.command}
echo "KLPV ${collection.label} - $?"
${DRAIN_SERIAL}
drain_serial
reboot -f
`;
}

/** Boots `options.kernel` once and returns what the guest wrote to its second serial port, as text. */
export async function bootAndCollect(
  options: BootAndCollectOptions,
  collection: Collection,
): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), `klp-${collection.label}-`));
  try {
    const busybox = await readFile(options.busybox ?? '/bin/busybox');
    const initrd = join(work, 'initrd.gz');
    const dataFile = join(work, `${collection.label}.gz`);
    await writeFile(
      initrd,
      writeCpioNewcGz([
        ...['bin', 'dev', 'proc'].map((path) => ({ path, kind: 'dir' as const, mode: 0o755 })),
        { path: 'dev/console', kind: 'chardev', mode: 0o600, rdev: { major: 5, minor: 1 } },
        { path: 'dev/ttyS1', kind: 'chardev', mode: 0o600, rdev: { major: 4, minor: 65 } },
        { path: 'bin/busybox', kind: 'file', mode: 0o755, data: busybox },
        { path: 'init', kind: 'file', mode: 0o755, data: initScript(collection) },
      ]),
    );
    const run = await runQemu({
      kernel: options.kernel,
      initrd,
      append: collection.append,
      accel: options.accel ?? 'tcg',
      timeoutMs: options.timeoutMs ?? 180_000,
      extraArgs: ['-chardev', `file,id=data,path=${dataFile}`, '-device', 'isa-serial,chardev=data'],
    });
    if (!run.console.includes(`KLPV ${collection.label} - 0`)) {
      throw new VerifyError(
        `could not read ${collection.what} from ${options.kernel}${run.timedOut ? ' (timed out)' : ''}`,
        {
          hint:
            'the image must boot under qemu with an initramfs; last console lines: ' +
            run.console.trim().split('\n').slice(-3).join(' | '),
        },
      );
    }
    return gunzipSync(await readFile(dataFile)).toString('latin1');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
