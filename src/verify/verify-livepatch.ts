import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { VerifyError } from '../errors.js';
import type { CpioEntry } from './cpio-newc.js';
import { writeCpioNewcGz } from './cpio-newc.js';
import type { VmPlan } from './init-script.js';
import { renderInitScript } from './init-script.js';
import type { VerifyStep } from './judge-run.js';
import { judgeRun } from './judge-run.js';
import { readModuleName } from './module-name.js';
import { parseConsole } from './parse-console.js';
import type { Accel } from './run-qemu.js';
import { runQemu } from './run-qemu.js';

export interface VerifyOptions {
  /** Bootable x86_64 kernel image (bzImage). */
  kernel: string;
  /** Livepatch modules, loaded in this order. */
  modules: string[];
  /** Modules loaded before the first check. */
  extraModules?: string[];
  /** Modules loaded after the livepatches (late patching). */
  lateModules?: string[];
  /** Shell snippets run in the guest: each must fail before, pass with the patch, fail after unload. */
  checks: string[];
  unload?: boolean;
  accel?: Accel;
  memoryMb?: number;
  /** Limit for the whole boot. */
  timeoutMs?: number;
  transitionTimeoutSeconds?: number;
  /** A statically linked busybox for the initramfs. */
  busybox?: string;
  signal?: AbortSignal;
  /** Console lines as they arrive (for -d). */
  onConsoleLine?: (line: string) => void;
  /** Extra words for the kernel command line. */
  append?: string;
  /** qemu CPU model under TCG (default max). */
  cpu?: string;
  /** WARNINGs a check provokes on purpose (matched against the "WARNING: CPU: ..." line). */
  allowedWarnings?: RegExp[];
}

export interface VerifyResult {
  ok: boolean;
  steps: VerifyStep[];
  dmesg: string[];
  console: string;
  timedOut: boolean;
  durationMs: number;
}

const DEFAULT_BUSYBOX = '/bin/busybox';

async function initramfsEntries(options: VerifyOptions, plan: VmPlan): Promise<CpioEntry[]> {
  const busybox = await readFile(options.busybox ?? DEFAULT_BUSYBOX).catch((cause: unknown) => {
    throw new VerifyError(`cannot read busybox at ${options.busybox ?? DEFAULT_BUSYBOX}`, {
      cause,
      hint: 'install busybox-static (scripts/bootstrap.sh does this)',
    });
  });
  const entries: CpioEntry[] = ['bin', 'dev', 'proc', 'sys', 'tmp', 'klpv', 'klpv/modules'].map((path) => ({
    path,
    kind: 'dir',
    mode: 0o755,
  }));
  entries.push({ path: 'dev/console', kind: 'chardev', mode: 0o600, rdev: { major: 5, minor: 1 } });
  entries.push({ path: 'bin/busybox', kind: 'file', mode: 0o755, data: busybox });
  entries.push({ path: 'bin/sh', kind: 'symlink', mode: 0o777, data: 'busybox' });
  const allModules = [...(options.extraModules ?? []), ...options.modules, ...(options.lateModules ?? [])];
  for (const file of allModules) {
    const data = await readFile(file).catch((cause: unknown) => {
      throw new VerifyError(`cannot read module ${file}`, { cause, hint: 'check the module path' });
    });
    entries.push({ path: `klpv/modules/${basename(file)}`, kind: 'file', mode: 0o644, data });
  }
  options.checks.forEach((check, i) => {
    entries.push({ path: `klpv/check-${i}.sh`, kind: 'file', mode: 0o755, data: `${check}\n` });
  });
  entries.push({ path: 'init', kind: 'file', mode: 0o755, data: renderInitScript(plan) });
  return entries;
}

function inVm(file: string): string {
  return `/klpv/modules/${basename(file)}`;
}

function assertDistinctBasenames(files: string[]): void {
  const seen = new Set<string>();
  for (const file of files) {
    const name = basename(file);
    if (seen.has(name))
      throw new VerifyError(`two modules share the file name ${name}`, { hint: 'rename one' });
    seen.add(name);
  }
}

/**
 * Boots `kernel` with the modules and proves the livepatch: each check fails before loading, passes once
 * every patch has finished its transition, and (with `unload`) fails again after disabling and removing
 * the patches. The kernel log must stay free of traces and livepatch errors.
 */
export async function verifyLivepatch(options: VerifyOptions): Promise<VerifyResult> {
  if (options.modules.length === 0)
    throw new VerifyError('no livepatch module given', { hint: 'pass --module' });
  if (options.checks.length === 0) {
    throw new VerifyError('no check given: nothing would show the patch works', { hint: 'pass --check' });
  }
  const extra = options.extraModules ?? [];
  const late = options.lateModules ?? [];
  assertDistinctBasenames([...extra, ...options.modules, ...late]);
  const livepatches = await Promise.all(
    options.modules.map(async (file) => ({ file: inVm(file), name: await readModuleName(file) })),
  );
  const plan: VmPlan = {
    extraModules: extra.map(inVm),
    livepatches,
    lateModules: late.map(inVm),
    checks: options.checks.map((_, i) => `/klpv/check-${i}.sh`),
    unload: options.unload ?? false,
    transitionTimeoutSeconds: options.transitionTimeoutSeconds ?? 30,
  };
  const work = await mkdtemp(join(tmpdir(), 'klp-verify-'));
  try {
    const initrd = join(work, 'initramfs.cpio.gz');
    await writeFile(initrd, writeCpioNewcGz(await initramfsEntries(options, plan)));
    const append = ['console=ttyS0', 'panic=-1', 'nokaslr', 'quiet', 'loglevel=4'];
    if (options.append) append.push(options.append);
    const run = await runQemu({
      kernel: options.kernel,
      initrd,
      append: append.join(' '),
      memoryMb: options.memoryMb ?? 1024,
      accel: options.accel ?? 'tcg',
      ...(options.cpu ? { cpu: options.cpu } : {}),
      timeoutMs: options.timeoutMs ?? 180_000,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onConsoleLine ? { onLine: options.onConsoleLine } : {}),
    });
    const parsed = parseConsole(run.console);
    const names = { extra: extra.map((f) => basename(f)), late: late.map((f) => basename(f)) };
    const steps = judgeRun(plan, parsed, names, run.timedOut, options.allowedWarnings);
    const ok = steps.every((s) => s.ok) && parsed.done === 'ok';
    return {
      ok,
      steps,
      dmesg: parsed.dmesg,
      console: run.console,
      timedOut: run.timedOut,
      durationMs: run.durationMs,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
