import { applyDebianArchiveOptions } from '../distro/debian-archive-options.js';
import { VerifyFailedError } from '../errors.js';
import { distccRequested } from '../kbuild/distcc.js';
import { checkSigningKey } from '../module/sign-module.js';
import { buildContext } from '../pipeline/build-context.js';
import type { LivepatchBuild } from '../pipeline/build-livepatch.js';
import { kpatchBuild } from '../pipeline/kpatch-build.js';
import { verifyBuild } from '../pipeline/verify-build.js';
import { checkCpuModel } from '../verify/cpu-model.js';
import { buildReport } from './batch-report.js';
import { createBuildProgress } from './build-progress.js';
import { cleanCacheCommand } from './clean-cache-command.js';
import { runBatchCommand } from './kpatch-build-batch.js';
import { type KpatchBuildJob, parseKpatchBuildArgs } from './kpatch-build-options.js';
import { printVerifyResult } from './print-verify-result.js';
import type { CliRuntime } from './run-cli.js';
import { requestFrom, validateBuildRequest } from './validate-request.js';
import { toolVersion } from './version.js';

export const KPATCH_BUILD_HELP = `Usage: kpatch-build [-a RELEASE] [--distro NAME] [options] PATCH...
       kpatch-build --distro debian -a all|-a REL -a REL... [--shard I/N] [options] PATCH...
       kpatch-build -s DIR [options] PATCH...

Builds a livepatch module from source patches: tests the patches, recompiles only the objects they
affect (original and patched, with function sections), finds changed functions, generates a kbuild
livepatch module and converts its relocations.

Without -s, the target is a distro kernel: its exact source, config, symbols and Module.symvers are
fetched and prepared once (cached), and no kernel build is needed: Debian, Ubuntu, Fedora and the
RHEL family (CentOS Stream, AlmaLinux, Rocky Linux, Oracle Linux), for patches to .c and .h files
of vmlinux or of the distro's modules: a header change compiles only the includers that use what it
changes (found without building the kernel). When the host lacks the
compiler the kernel names (Debian 13's gcc-14 on a Debian 12 host), every compile runs in a build
root of the release's suite, made once with mmdebstrap and cached (needs root).

  -a, --archversion REL     target kernel release (default: uname -r), e.g. 6.12.118+deb13-amd64,
                            6.1.0-57-amd64, 7.2.12+deb14-amd64 (-cloud-amd64, -rt-amd64) or latest
                            (Debian), 5.15.0-91-generic (Ubuntu), 6.5.6-300.fc39.x86_64 (Fedora),
                            5.14.0-362.el9.x86_64 (RHEL family)
                            Repeat -a for a batch: one build per release, each module in
                            OUTPUT/RELEASE/NAME.ko, then a verdict table per release (built, patch
                            does not apply, refused, failed); exit 5 unless all were built
  -a all[-FLAVOUR]          Debian: every release of the suite the archive still carries (amd64;
                            all-cloud-amd64, all-rt-amd64), as a batch
  --shard I/N               build part I of N of the batch (I from 1; the sorted releases dealt out
                            in turn), for N machines (or processes) given the same command;
                            a batch builds its releases one at a time (docs/farm.md)
  --suite SUITE             Debian: bookworm, trixie, forky or sid (default: the suite whose release
                            names match -a, else the host's); -a latest is that suite's newest kernel
  --ignore-valid-until      Debian: accept an archive Release file past its Valid-Until (testing's
                            often is), as apt's Acquire::Check-Valid-Until=false
  --distro NAME             the target's distro (default: from /etc/os-release): debian, ubuntu,
                            fedora, centos, almalinux, rocky, ol (mirror: $KPATCH_MIRROR_<NAME>)
  -r, --sourcerpm SRPM      RPM distros: build from this kernel SRPM instead of the release's own
                            (checked by its digests and its name-version-release; -a defaults to it)
  -s, --sourcedir DIR       instead: a kernel tree built for the target kernel
  -c, --config FILE         its .config (default DIR/.config)
  -v, --vmlinux FILE        its vmlinux (default DIR/vmlinux)
  -n, --name NAME           module name (default livepatch-<first patch>; [A-Za-z0-9_-], at most 55)
  -o, --output DIR          where NAME.ko goes (default: the current directory)
  -R, --non-replace         do not replace earlier livepatches (atomic replace is the default)
  -d, --debug               keep the work directory and its logs
  --skip-cleanup            leave the tree patched if the build fails
  --allow-fuzz              apply hunks whose context differs from the tree (GNU patch fuzz); refused
                            by default since such a hunk may change the wrong code; reported either way
  --skip-compiler-check     build with the host's compiler even if it differs from the target's
                            (no build root)
  -j, --jobs N              compilers to run at once (default: one per core)
  --distcc                  compile the affected objects over distcc (also on when $DISTCC_HOSTS is
                            set): the kernel's own compiler, run on distcc's hosts, as many at once
                            as they have job slots (docs/farm.md#distcc)
  --max-objects N           refuse to compile more than N affected objects (default: no limit)
  --full-build              build the whole tree first (make all): with -s for trees never built or
                            out of date; for a distro kernel once per release (cached), which lets
                            patches change files other than .c and .h (.S, Makefiles)
  -t, --target TARGET       make target for --full-build instead of all (repeatable)
  --oot-module KO           patch this out-of-tree module, built against the target: make -C DIR
                            M=SRC with -s DIR, else with the distro's /lib/modules/RELEASE/build
  --oot-module-src SRC      its source directory; the patches' paths are relative to it
  --sign-key KEY            sign the module with the target's scripts/sign-file and this private
  --sign-cert CERT          key and certificate (both needed), for kernels that enforce signatures
  --json                    print the result as JSON on stdout (a batch: one entry per release)
  --verify                  prove the module in a VM booting the target's image (klp-verify): load
                            it (then any module it patches), run the checks, unload, run them again
  --check 'SHELL'           a busybox sh check for --verify: must fail before the patch, pass with
                            it, fail after unloading (repeatable; default: the patch is enabled)
  --cpu MODEL               qemu CPU model for --verify (TCG; default max), e.g. Skylake-Client: a
                            CPU the kernel mitigates by patching the module's return sites (7.2:
                            ITS return thunks); ,+flag/,-flag allowed (qemu-system-x86_64 -cpu help)
  --clean-cache             remove the cached target and source of -a RELEASE (every release of the
                            distro without -a), waiting for runs that use them; downloads are kept
  --version                 print the version
  -h, --help                this text

What is proven and what is not, per distro: docs/distros.md and docs/roadmap.md.
Cache: $CACHEDIR, else $XDG_CACHE_HOME/kpatch-build, else ~/.cache/kpatch-build.
Inputs (patches, -s/-c/-v/-r/--oot-module files, a writable -o, the name) are checked before any work.
Exit status: 0 built; 2 unsupported change (renames too); 3 no functional change (e.g. only
Documentation/); 5 a batch with some release not built; 65 patch does not apply (or needs fuzz); 66 unknown distro or release; 64 usage;
130/143 stopped by SIGINT/SIGTERM (tree restored, work directory removed); 1 other errors (see
docs/exit-codes.md).
`;

/** --verify: the built module, proven in a VM booting the target's image. */
async function verifyInVm(
  result: LivepatchBuild,
  job: { checks: string[]; cpu?: string | undefined },
  signal: AbortSignal,
) {
  const cpu = job.cpu ? `, -cpu ${job.cpu}` : '';
  process.stderr.write(`Verifying ${result.name}.ko in a VM (${result.image ?? 'no image'}${cpu})\n`);
  const verified = await verifyBuild(result, {
    checks: job.checks,
    ...(job.cpu ? { cpu: job.cpu } : {}),
    signal,
  });
  printVerifyResult(verified, process.stderr, 'verify');
  return verified;
}

/** Archive options put into effect and every input checked before anything is fetched, prepared or built. */
async function checkInputs(command: KpatchBuildJob): Promise<void> {
  applyDebianArchiveOptions({
    ...command.debianArchive,
    distro: command.target.kind === 'distro' ? command.target.distro : undefined,
    sourceDir: command.target.kind === 'tree' ? command.target.sourceDir : undefined,
  });
  if (command.job.sign) await checkSigningKey(command.job.sign);
  if (command.cpu) await checkCpuModel(command.cpu);
  await validateBuildRequest(requestFrom(command));
  for (const note of command.notes) process.stderr.write(`kpatch-build: note: ${note}\n`);
}

export async function main(argv: string[], runtime: CliRuntime): Promise<number> {
  const command = parseKpatchBuildArgs(argv);
  if (command.kind === 'help') {
    process.stdout.write(KPATCH_BUILD_HELP);
    return 0;
  }
  if (command.kind === 'version') {
    process.stdout.write(`kpatch-build ${toolVersion()}\n`);
    return 0;
  }
  if (command.kind === 'clean-cache') return cleanCacheCommand(command.distro, command.release);
  await checkInputs(command.kind === 'batch' ? command.build : command);
  if (command.kind === 'batch') {
    const { signal, dispose } = runtime.interrupts();
    try {
      return await runBatchCommand(command, signal);
    } finally {
      await dispose();
    }
  }
  const { signal, dispose } = runtime.interrupts();
  // Phases, changed functions and progress on stderr: a live list on a terminal, plain lines otherwise.
  const progress = createBuildProgress({ stream: process.stderr, verbose: command.debug });
  try {
    const ctx = buildContext({
      ...(command.jobs ? { jobs: command.jobs } : {}),
      distcc: distccRequested(command.distcc, process.env),
      ...(command.maxObjects ? { maxObjects: command.maxObjects } : {}),
      signal,
      emit: (event) => progress.event(event),
      onProgress: (message) => progress.progress(message),
      onDownload: (p) => progress.download(p),
      onCommand: (line) => progress.command(line),
    });
    const result = await kpatchBuild(command.target, command.job, ctx);
    await progress.succeed(result.module); // ends the list first: stdout may be the same terminal
    const verified = command.verify ? await verifyInVm(result, command, signal) : undefined;
    if (command.json) {
      const verification = verified && {
        ok: verified.ok,
        steps: verified.steps,
        durationMs: verified.durationMs,
      };
      process.stdout.write(`${JSON.stringify(buildReport(result, verification), null, 2)}\n`);
    }
    if (verified && !verified.ok) {
      const failed = verified.steps.find((s) => !s.ok);
      throw new VerifyFailedError(
        failed ? `${failed.name}: ${failed.detail}` : 'the guest did not finish its script',
        { hint: 'the module was built; the lines above show what the VM saw' },
      );
    }
    return 0;
  } catch (error) {
    await progress.fail(error); // marks the phase failed; runCli prints the error below the list
    throw error;
  } finally {
    await progress.close();
    await dispose();
  }
}
