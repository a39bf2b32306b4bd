/**
 * Which vmlinux functions the kernel sealed at boot. On X86_KERNEL_IBT kernels objtool lists every
 * function whose address is never taken in vmlinux's .ibt_endbr_seal, and apply_seal_endbr overwrites
 * their ENDBR at boot (on every CPU, with or without IBT): an indirect call into one of them is a #CP
 * fault on IBT hardware. `debug-alternative=0x08` (DA_ENDBR) makes the kernel log each one as
 * "ENDBR at: name+0x0/0xsize (address)"; the log is carried out on a second serial port.
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

export interface SealedFunction {
  name: string;
  address: bigint;
}

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
stty -F /dev/ttyS1 raw -echo
dmesg | grep 'ENDBR at: ' | gzip -1 -c > /dev/ttyS1
echo "KLPV sealed - $?"
${DRAIN_SERIAL}
drain_serial
reboot -f
`;

/** The sealed functions in a kernel log ("... ENDBR at: calibrate_delay+0x0/0x540 (ffffffff81002e10)"). */
export function parseSealedFunctions(log: string): SealedFunction[] {
  const found: SealedFunction[] = [];
  for (const match of log.matchAll(/ENDBR at: ([^\s+]+)\+0x0\/0x[0-9a-f]+ \(([0-9a-f]+)\)/g)) {
    found.push({ name: match[1]!, address: BigInt(`0x${match[2]}`) });
  }
  return found;
}

/** Boots the image once (nokaslr) and returns the functions it sealed. */
export async function dumpSealedFunctions(options: {
  kernel: string;
  busybox?: string;
  accel?: Accel;
  timeoutMs?: number;
}): Promise<SealedFunction[]> {
  const work = await mkdtemp(join(tmpdir(), 'klp-sealed-'));
  try {
    const busybox = await readFile(options.busybox ?? '/bin/busybox');
    const initrd = join(work, 'initrd.gz');
    const dataFile = join(work, 'sealed.gz');
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
      // The log of 7,000+ lines must not wrap before init reads it.
      append: 'console=ttyS0 quiet nokaslr panic=-1 debug-alternative=0x08 log_buf_len=16M',
      accel: options.accel ?? 'tcg',
      timeoutMs: options.timeoutMs ?? 180_000,
      extraArgs: ['-chardev', `file,id=data,path=${dataFile}`, '-device', 'isa-serial,chardev=data'],
    });
    if (!run.console.includes('KLPV sealed - 0')) {
      throw new VerifyError(`could not read the sealed functions of ${options.kernel}`, {
        hint: `the image must boot under qemu; last console lines: ${run.console.trim().split('\n').slice(-3).join(' | ')}`,
      });
    }
    return parseSealedFunctions(gunzipSync(await readFile(dataFile)).toString('latin1'));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
