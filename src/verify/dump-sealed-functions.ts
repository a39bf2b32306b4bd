/**
 * Which vmlinux functions the kernel sealed at boot. On X86_KERNEL_IBT kernels objtool lists every
 * function whose address is never taken in vmlinux's .ibt_endbr_seal, and apply_seal_endbr overwrites
 * their ENDBR at boot (on every CPU, with or without IBT): an indirect call into one of them is a #CP
 * fault on IBT hardware. `debug-alternative=0x08` (DA_ENDBR) makes the kernel log each one as
 * "ENDBR at: name+0x0/0xsize (address)"; the log is carried out on a second serial port.
 */
import { type BootAndCollectOptions, bootAndCollect } from './boot-and-collect.js';

export interface SealedFunction {
  name: string;
  address: bigint;
}

/** The sealed functions in a kernel log ("... ENDBR at: calibrate_delay+0x0/0x540 (ffffffff81002e10)"). */
export function parseSealedFunctions(log: string): SealedFunction[] {
  const found: SealedFunction[] = [];
  for (const match of log.matchAll(/ENDBR at: ([^\s+]+)\+0x0\/0x[0-9a-f]+ \(([0-9a-f]+)\)/g)) {
    found.push({ name: match[1]!, address: BigInt(`0x${match[2]}`) });
  }
  return found;
}

/** Boots the image once (nokaslr) and returns the functions it sealed. */
export async function dumpSealedFunctions(options: BootAndCollectOptions): Promise<SealedFunction[]> {
  const log = await bootAndCollect(options, {
    command: "dmesg | grep 'ENDBR at: ' | gzip -1 -c > /dev/ttyS1",
    label: 'sealed',
    // The log of 7,000+ lines must not wrap before init reads it.
    append: 'console=ttyS0 quiet nokaslr panic=-1 debug-alternative=0x08 log_buf_len=16M',
    what: 'the sealed functions',
  });
  return parseSealedFunctions(log);
}
