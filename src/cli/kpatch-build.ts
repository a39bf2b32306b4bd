import { release as osRelease } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { debianLayout } from '../distro/debian-layout.js';
import { detectDistro } from '../distro/detect-distro.js';
import { distroAdapter } from '../distro/distro-adapters.js';
import { releaseFromSrpm } from '../distro/local-srpm.js';
import { isRpmDistro } from '../distro/rpm-adapter.js';
import { UsageError, VerifyFailedError } from '../errors.js';
import { buildForAdapterDistro } from '../pipeline/build-for-adapter-distro.js';
import type { DebianBuildOptions } from '../pipeline/build-for-debian.js';
import { buildForDebian } from '../pipeline/build-for-debian.js';
import type { BuildEvent, TreeBuildResult } from '../pipeline/build-from-tree.js';
import { buildFromTree } from '../pipeline/build-from-tree.js';
import { verifyBuild } from '../pipeline/verify-build.js';
import type { PackageProgress } from '../source/fetch-packages.js';
import { createBuildProgress } from './build-progress.js';
import { cleanCacheCommand } from './clean-cache-command.js';
import { printVerifyResult } from './print-verify-result.js';
import { abortOnSignals } from './signals.js';
import { requestFrom, validateBuildRequest } from './validate-request.js';
import { toolVersion } from './version.js';

export const KPATCH_BUILD_HELP = `Usage: kpatch-build [-a RELEASE] [--distro NAME] [options] PATCH...
       kpatch-build -s DIR [options] PATCH...

Builds a livepatch module from source patches: tests the patches, recompiles only the objects they
affect (original and patched, with function sections), finds changed functions, generates a kbuild
livepatch module and converts its relocations.

Without -s, the target is a distro kernel: its exact source, config, symbols and Module.symvers are
fetched and prepared once (cached), and no kernel build is needed: Debian, Ubuntu, Fedora and the
RHEL family (CentOS Stream, AlmaLinux, Rocky Linux, Oracle Linux), for patches to .c files of
vmlinux or of the distro's modules (headers too after --full-build).

  -a, --archversion REL     target kernel release (default: uname -r), e.g. 6.1.0-56-amd64 or latest
                            (Debian), 5.15.0-91-generic (Ubuntu), 6.5.6-300.fc39.x86_64 (Fedora),
                            5.14.0-362.el9.x86_64 (RHEL family)
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
  --skip-compiler-check     build even if the local compiler differs from the target's
  -j, --jobs N              compilers to run at once (default: one per core)
  --max-objects N           rebuild at most N affected objects (default 300)
  --full-build              build the whole tree first (make all): with -s for trees never built or
                            out of date; for a distro kernel once per release (cached), which lets
                            patches change headers
  -t, --target TARGET       make target for --full-build instead of all (repeatable)
  --oot-module KO           patch this out-of-tree module, built against the target: make -C DIR
                            M=SRC with -s DIR, else with the distro's /lib/modules/RELEASE/build
  --oot-module-src SRC      its source directory; the patches' paths are relative to it
  --json                    print the result as JSON on stdout
  --verify                  prove the module in a VM booting the target's image (klp-verify): load
                            it (then any module it patches), run the checks, unload, run them again
  --check 'SHELL'           a busybox sh check for --verify: must fail before the patch, pass with
                            it, fail after unloading (repeatable; default: the patch is enabled)
  --clean-cache             remove the cached target and source of -a RELEASE (every release of the
                            distro without -a), waiting for runs that use them; downloads are kept
  --version                 print the version
  -h, --help                this text

What is proven and what is not, per distro: docs/distros.md and docs/roadmap.md.
Cache: $CACHEDIR, else $XDG_CACHE_HOME/kpatch-build, else ~/.cache/kpatch-build.
Inputs (patches, -s/-c/-v/-r/--oot-module files, a writable -o, the name) are checked before any work.
Exit status: 0 built; 2 unsupported change (renames too); 3 no functional change (e.g. only
Documentation/); 65 patch does not apply (or needs fuzz); 66 unknown distro or release; 64 usage;
1 other errors (see docs/exit-codes.md).
`;

/** Without -s: the target is a distro kernel release (Debian, Ubuntu, Fedora, the RHEL family). */
async function buildForDistroRelease(
  distro: string | undefined,
  archversion: string | undefined,
  sourceRpm: string | undefined,
  common: Omit<DebianBuildOptions, 'release'>,
) {
  const id = detectDistro(distro);
  if (sourceRpm !== undefined && !isRpmDistro(id)) {
    throw new UsageError(`-r/--sourcerpm is for RPM distros; the target distro is ${id}`, {
      hint: 'pass --distro fedora, centos, almalinux, rocky or ol',
    });
  }
  // kpatch-build -r without -a: the kernel the SRPM builds is the target.
  const release = archversion ?? (sourceRpm ? await releaseFromSrpm(resolve(sourceRpm)) : osRelease());
  if (isRpmDistro(id)) {
    distroAdapter(id).parseRelease(release); // refuses another distro's release name (or "latest"), with a hint
    return buildForAdapterDistro({
      ...common,
      distro: id,
      release,
      ...(sourceRpm ? { sourceRpm: resolve(sourceRpm) } : {}),
    });
  }
  if (id === 'ubuntu') {
    distroAdapter(id).parseRelease(release); // refuses a non-Ubuntu release name (or "latest"), with a hint
    return buildForAdapterDistro({ ...common, distro: 'ubuntu', release });
  }
  if (release !== 'latest') debianLayout(release); // refuses a non-Debian release name, with a hint
  return buildForDebian({ ...common, release });
}

function positiveInteger(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(Number.isInteger(value) && value > 0))
    throw new UsageError(`${option} takes a positive whole number`);
  return value;
}

/** --verify: the built module, proven in a VM booting the target's image. */
async function verifyInVm(result: TreeBuildResult, checks: string[], signal: AbortSignal) {
  process.stderr.write(`Verifying ${result.name}.ko in a VM (${result.image ?? 'no image'})\n`);
  const verified = await verifyBuild(result, { checks, signal });
  printVerifyResult(verified, process.stderr, 'verify');
  return verified;
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      sourcedir: { type: 'string', short: 's' },
      archversion: { type: 'string', short: 'a' },
      distro: { type: 'string' },
      config: { type: 'string', short: 'c' },
      vmlinux: { type: 'string', short: 'v' },
      name: { type: 'string', short: 'n' },
      output: { type: 'string', short: 'o' },
      'non-replace': { type: 'boolean', short: 'R', default: false },
      debug: { type: 'boolean', short: 'd', default: false },
      'skip-cleanup': { type: 'boolean', default: false },
      'allow-fuzz': { type: 'boolean', default: false },
      'clean-cache': { type: 'boolean', default: false },
      'skip-compiler-check': { type: 'boolean', default: false },
      'max-objects': { type: 'string' },
      jobs: { type: 'string', short: 'j' },
      json: { type: 'boolean', default: false },
      verify: { type: 'boolean', default: false },
      'full-build': { type: 'boolean', default: false },
      'oot-module': { type: 'string' },
      sourcerpm: { type: 'string', short: 'r' },
      'oot-module-src': { type: 'string' },
      target: { type: 'string', short: 't', multiple: true, default: [] },
      check: { type: 'string', multiple: true, default: [] },
      version: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(KPATCH_BUILD_HELP);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`kpatch-build ${toolVersion()}\n`);
    return 0;
  }
  if (values['clean-cache']) return cleanCacheCommand(values.distro, values.archversion);
  if (values.sourcerpm !== undefined && values.sourcedir !== undefined) {
    throw new UsageError('-r/--sourcerpm and -s/--sourcedir are two different sources', {
      hint: 'give one of them',
    });
  }
  if ((values['oot-module'] === undefined) !== (values['oot-module-src'] === undefined)) {
    throw new UsageError('--oot-module and --oot-module-src go together', {
      hint: 'the built .ko and the directory it was built from (make -C TREE M=DIR)',
    });
  }
  if (values.target.length > 0 && !values['full-build'])
    throw new UsageError('-t/--target names make targets for --full-build', { hint: 'add --full-build' });
  if (values.check.length > 0 && !values.verify)
    throw new UsageError('--check is used by --verify', { hint: 'add --verify' });
  if (positionals.length === 0)
    throw new UsageError('no patch given', { hint: 'kpatch-build -s DIR PATCH...' });
  const maxObjects = positiveInteger(values['max-objects'], '--max-objects');
  const jobs = positiveInteger(values.jobs, '-j/--jobs');
  const { name, notes } = await validateBuildRequest(requestFrom(values, positionals));
  for (const note of notes) process.stderr.write(`kpatch-build: note: ${note}\n`);
  const { signal, dispose } = abortOnSignals();
  // Phases, changed functions and progress on stderr: a live list on a terminal, plain lines otherwise.
  const progress = createBuildProgress({ stream: process.stderr, verbose: values.debug });
  try {
    const common = {
      patches: positionals,
      name,
      outputDir: resolve(values.output ?? '.'),
      replace: !values['non-replace'],
      skipCleanup: values['skip-cleanup'],
      allowFuzz: values['allow-fuzz'],
      skipCompilerCheck: values['skip-compiler-check'],
      keepWorkDir: values.debug,
      ...(maxObjects ? { maxObjects } : {}),
      ...(jobs ? { jobs } : {}),
      signal,
      onEvent: (event: BuildEvent) => progress.event(event),
      onProgress: (message: string) => progress.progress(message),
      onDownload: (p: PackageProgress) => progress.download(p),
      onCommand: (command: string) => progress.command(command),
      ...(values['oot-module'] && values['oot-module-src']
        ? { ootModule: { ko: values['oot-module'], sourceDir: values['oot-module-src'] } }
        : {}),
      ...(values['full-build'] ? { fullBuild: true, buildTargets: values.target } : {}),
    };
    const result = values.sourcedir
      ? await buildFromTree({
          ...common,
          sourceDir: values.sourcedir,
          ...(values.config ? { config: values.config } : {}),
          ...(values.vmlinux ? { vmlinux: values.vmlinux } : {}),
        })
      : await buildForDistroRelease(values.distro, values.archversion, values.sourcerpm, common);
    await progress.succeed(result.module); // ends the list first: stdout may be the same terminal
    const verified = values.verify ? await verifyInVm(result, values.check, signal) : undefined;
    if (values.json) {
      const verification = verified && {
        ok: verified.ok,
        steps: verified.steps,
        durationMs: verified.durationMs,
      };
      process.stdout.write(
        `${JSON.stringify({ ...result, ...(verification ? { verification } : {}) }, null, 2)}\n`,
      );
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
    dispose();
  }
}
