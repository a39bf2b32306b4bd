import { execa } from 'execa';
import { VerifyError } from '../errors.js';
import { abortError } from '../source/abort.js';

export type Accel = 'tcg' | 'kvm';

export interface QemuOptions {
  kernel: string;
  initrd: string;
  /** Kernel command line. */
  append: string;
  memoryMb?: number;
  accel?: Accel;
  /** Whole-boot limit; the VM is killed when it runs out. */
  timeoutMs: number;
  /** Extra qemu arguments (e.g. a second serial port to carry data out). */
  extraArgs?: string[];
  signal?: AbortSignal;
  /** Called with each console line as it arrives. */
  onLine?: (line: string) => void;
  qemuBinary?: string;
  /** CPU model for TCG (default max), e.g. Skylake-Client to get call depth tracking (retbleed=stuff). */
  cpu?: string;
}

export interface QemuResult {
  console: string;
  exitCode: number | undefined;
  timedOut: boolean;
  durationMs: number;
}

export function qemuArgs(options: QemuOptions): string[] {
  const accel = options.accel ?? 'tcg';
  return [
    '-accel',
    accel,
    '-cpu',
    accel === 'kvm' ? 'host' : (options.cpu ?? 'max'),
    '-m',
    String(options.memoryMb ?? 1024),
    '-kernel',
    options.kernel,
    '-initrd',
    options.initrd,
    '-append',
    options.append,
    '-display',
    'none',
    '-monitor',
    'none',
    '-serial',
    'stdio',
    '-no-reboot',
    '-nodefaults',
    ...(options.extraArgs ?? []),
  ];
}

/**
 * Boots a kernel once and returns everything it printed on the serial console. The guest ends the run
 * with `reboot -f`, which `-no-reboot` turns into a qemu exit. A timeout or abort kills qemu (and its
 * process group) so no VM outlives the call.
 */
export async function runQemu(options: QemuOptions): Promise<QemuResult> {
  const binary = options.qemuBinary ?? 'qemu-system-x86_64';
  const started = performance.now();
  const child = execa(binary, qemuArgs(options), {
    stdin: 'ignore',
    reject: false,
    timeout: options.timeoutMs,
    forceKillAfterDelay: 2000,
    cleanup: true,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    stripFinalNewline: false,
    buffer: { stdout: true, stderr: true },
    lines: false,
  });
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    if (!options.onLine) return;
    pending += chunk.toString('utf8');
    const lines = pending.split(/\r?\n/);
    pending = lines.pop() ?? '';
    for (const line of lines) options.onLine(line.replace(/\r$/, ''));
  });
  const result = await child;
  // Ours, whichever signal arrived first (Ctrl-C reaches qemu as well as us): the run was stopped.
  if (options.signal?.aborted && result.failed) throw abortError(options.signal);
  if (result.failed && !result.timedOut && !result.isCanceled && result.exitCode === undefined) {
    throw new VerifyError(`could not run ${binary}: ${result.shortMessage}`, {
      hint: 'install qemu-system-x86 (scripts/bootstrap.sh does this)',
      cause: result.cause,
    });
  }
  const consoleText = String(result.stdout).replaceAll('\r\n', '\n');
  if (result.exitCode !== 0 && !result.timedOut && !consoleText.includes('KLPV')) {
    throw new VerifyError(
      `${binary} exited with ${result.exitCode} before the guest started: ${String(result.stderr).trim()}`,
      {
        hint: 'check that the kernel image is an x86_64 bzImage and that qemu works (try --accel tcg)',
      },
    );
  }
  return {
    console: consoleText,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    durationMs: performance.now() - started,
  };
}
