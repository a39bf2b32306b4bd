import { parseArgs } from 'node:util';
import { parseTargetSpec } from '../distro/parse-target-spec.js';
import { prepareTarget } from '../distro/prepare-target.js';
import { UsageError, VerifyFailedError } from '../errors.js';
import { checkCpuModel, parseCpuModel } from '../verify/cpu-model.js';
import type { Accel } from '../verify/run-qemu.js';
import { verifyLivepatch } from '../verify/verify-livepatch.js';
import { requireInputs } from './check-paths.js';
import { printVerifyResult } from './print-verify-result.js';
import type { CliRuntime } from './run-cli.js';

export const KLP_VERIFY_HELP = `Usage: klp-verify (--target SPEC | --kernel IMAGE) --module KO [--module KO]... --check 'SHELL'... [options]

Boots the target kernel in qemu with a busybox initramfs and proves a livepatch works: every check must
fail before the patch is loaded, pass once each patch's transition is complete, and (with --unload) fail
again after the patches are disabled and removed. The kernel log must show no Call Trace or livepatch error.

  --target SPEC          debian:latest, debian:<release> (e.g. debian:6.1.0-56-amd64), or test
                         (the small test kernel); downloaded or built once and cached
  --kernel IMAGE         boot this bzImage instead of the target's image
  --module KO            livepatch module to load (repeatable; loaded in order)
  --extra-module KO      module loaded before the first check (repeatable)
  --late-module KO       module loaded after the livepatches, to exercise late patching (repeatable)
  --check 'SHELL'        busybox sh snippet run in the guest (repeatable)
  --unload               disable and remove the patches, then run the checks again
  --allow-warning REGEX  a WARNING a check provokes on purpose (matching its "WARNING: CPU:" line) is
                         not a failure, nor is its Call Trace (repeatable)
  --json                 print the result as JSON on stdout
  --accel tcg|kvm        qemu accelerator (default tcg; kvm only where it is known to work)
  --cpu MODEL            qemu CPU model under tcg (default max), e.g. Skylake-Client
  --timeout SECONDS      limit for one boot (default 180)
  --memory MB            guest memory (default 1024)
  -d, --debug            echo the guest console
  -h, --help             this text

Exit status: 0 every step held; 4 a step did not hold; 70 the VM could not be run; 64 usage.
Cache: $CACHEDIR, else $XDG_CACHE_HOME/kpatch-build, else ~/.cache/kpatch-build.
`;

export async function main(argv: string[], runtime: CliRuntime): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string' },
      kernel: { type: 'string' },
      module: { type: 'string', multiple: true, default: [] },
      'extra-module': { type: 'string', multiple: true, default: [] },
      'late-module': { type: 'string', multiple: true, default: [] },
      check: { type: 'string', multiple: true, default: [] },
      unload: { type: 'boolean', default: false },
      'allow-warning': { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
      accel: { type: 'string', default: 'tcg' },
      cpu: { type: 'string' },
      timeout: { type: 'string', default: '180' },
      memory: { type: 'string', default: '1024' },
      debug: { type: 'boolean', short: 'd', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(KLP_VERIFY_HELP);
    return 0;
  }
  if (!values.target && !values.kernel)
    throw new UsageError('give --target or --kernel', { hint: 'see --help' });
  if (values.module.length === 0) throw new UsageError('give at least one --module', { hint: 'see --help' });
  if (values.check.length === 0) throw new UsageError('give at least one --check', { hint: 'see --help' });
  if (values.accel !== 'tcg' && values.accel !== 'kvm') throw new UsageError('--accel takes tcg or kvm');
  const cpu = parseCpuModel(values.cpu);
  if (cpu && values.accel === 'kvm')
    throw new UsageError('--cpu is for --accel tcg', { hint: 'kvm runs the host CPU (-cpu host)' });
  const timeout = Number(values.timeout);
  const memory = Number(values.memory);
  if (!(timeout > 0) || !(memory >= 128)) throw new UsageError('--timeout must be > 0 and --memory >= 128');
  await requireInputs([
    ['--kernel', values.kernel],
    ...values.module.map((m) => ['--module', m] as const),
    ...values['extra-module'].map((m) => ['--extra-module', m] as const),
    ...values['late-module'].map((m) => ['--late-module', m] as const),
  ]);

  if (cpu) await checkCpuModel(cpu);

  const { signal, dispose } = runtime.interrupts();
  try {
    let kernel = values.kernel;
    if (!kernel) {
      const spec = parseTargetSpec(values.target ?? '');
      const target = await prepareTarget(spec, {
        signal,
        onProgress: (message) => process.stderr.write(`klp-verify: ${message}\n`),
      });
      process.stderr.write(`klp-verify: target ${target.id} (${target.packageVersion})\n`);
      kernel = target.image;
    }
    const result = await verifyLivepatch({
      kernel,
      modules: values.module,
      extraModules: values['extra-module'],
      lateModules: values['late-module'],
      checks: values.check,
      unload: values.unload,
      allowedWarnings: values['allow-warning'].map((p) => new RegExp(p)),
      accel: values.accel as Accel,
      ...(cpu ? { cpu } : {}),
      timeoutMs: timeout * 1000,
      memoryMb: memory,
      signal,
      ...(values.debug
        ? { onConsoleLine: (line: string) => process.stderr.write(`console: ${line}\n`) }
        : {}),
    });
    if (values.json) {
      const { console: _console, ...rest } = result;
      process.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
    }
    printVerifyResult(result, values.json ? process.stderr : process.stdout);
    if (!result.ok) {
      const failed = result.steps.find((s) => !s.ok);
      throw new VerifyFailedError(
        failed ? `${failed.name}: ${failed.detail}` : 'the guest did not finish its script',
      );
    }
    return 0;
  } finally {
    await dispose();
  }
}
