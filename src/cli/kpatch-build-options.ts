/**
 * kpatch-build's command line as a value, parsed and checked once (a pure function: no files, no
 * environment): what to build, for which target, and the knobs of the build context.
 */
import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { livepatchModuleName, renamedDefaultNote } from '../module/module-spec.js';
import type { Shard } from '../pipeline/batch-releases.js';
import type { LivepatchJob } from '../pipeline/build-run.js';
import type { TargetSpec } from '../pipeline/kpatch-build.js';
import { parseCpuModel } from '../verify/cpu-model.js';
import { isAllReleases, isBatchSelection, parseShard } from './batch-options.js';

export type KpatchBuildCommand =
  | KpatchBatchCommand
  | { kind: 'help' }
  | { kind: 'version' }
  /** --clean-cache: a distro's cached targets (one release with -a); no patches, nothing built. */
  | { kind: 'clean-cache'; distro?: string; release?: string }
  | {
      kind: 'build';
      target: TargetSpec;
      job: LivepatchJob;
      /** -j; the context's default when absent. */
      jobs?: number;
      /** --distcc (DISTCC_HOSTS, read by the CLI, turns it on too). */
      distcc: boolean;
      /** --max-objects; the context's default when absent. */
      maxObjects?: number;
      /** -d: keep the work dir and show commands. */
      debug: boolean;
      json: boolean;
      verify: boolean;
      checks: string[];
      /** --cpu: qemu's CPU model for --verify (TCG; default max). */
      cpu?: string;
      /** --suite and --ignore-valid-until, put into effect by applyDebianArchiveOptions. */
      debianArchive: { suite?: string; ignoreValidUntil: boolean };
      /** Things to tell the user before the build, e.g. a default module name that had characters replaced. */
      notes: string[];
    };

export type KpatchBuildJob = Extract<KpatchBuildCommand, { kind: 'build' }>;

/**
 * -a given more than once, -a all[-FLAVOUR] or --shard: one build per release, each into OUTPUT/RELEASE/.
 * `build` is the build of every release (its target names none); `releases` the -a values as given.
 */
export interface KpatchBatchCommand {
  kind: 'batch';
  build: KpatchBuildJob;
  releases: string[];
  shard?: Shard;
}

const OPTIONS = {
  sourcedir: { type: 'string', short: 's' },
  archversion: { type: 'string', short: 'a', multiple: true, default: [] as string[] },
  shard: { type: 'string' },
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
  distcc: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  verify: { type: 'boolean', default: false },
  'full-build': { type: 'boolean', default: false },
  'oot-module': { type: 'string' },
  sourcerpm: { type: 'string', short: 'r' },
  'oot-module-src': { type: 'string' },
  'sign-key': { type: 'string' },
  'sign-cert': { type: 'string' },
  suite: { type: 'string' },
  'ignore-valid-until': { type: 'boolean', default: false },
  target: { type: 'string', short: 't', multiple: true, default: [] as string[] },
  check: { type: 'string', multiple: true, default: [] as string[] },
  cpu: { type: 'string' },
  version: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies NonNullable<ParseArgsConfig['options']>;

function positiveInteger(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(Number.isInteger(value) && value > 0))
    throw new UsageError(`${option} takes a positive whole number`, {
      hint: `e.g. ${option.split('/')[0]} 2`,
    });
  return value;
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** Options that only make sense together, or not at all together. */
function checkCombinations(values: Values, positionals: string[]): void {
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
  if (values.cpu !== undefined && !values.verify)
    throw new UsageError('--cpu is the CPU model of the --verify VM', { hint: 'add --verify' });
  if ((values['sign-key'] === undefined) !== (values['sign-cert'] === undefined))
    throw new UsageError('--sign-key and --sign-cert go together', {
      hint: 'the private key and its certificate',
    });
  if (positionals.length === 0)
    throw new UsageError('no patch given', { hint: 'kpatch-build -s DIR PATCH...' });
}

function targetSpec(values: Values, batch: boolean): TargetSpec {
  const fullBuild = values['full-build'] ? { fullBuild: true, buildTargets: values.target } : {};
  if (values.sourcedir !== undefined) {
    return {
      kind: 'tree',
      sourceDir: values.sourcedir,
      ...(values.config ? { config: values.config } : {}),
      ...(values.vmlinux ? { vmlinux: values.vmlinux } : {}),
      ...fullBuild,
    };
  }
  return {
    kind: 'distro',
    ...(values.distro !== undefined ? { distro: values.distro } : {}),
    ...(values.archversion.length === 1 && !batch ? { release: values.archversion[0] as string } : {}),
    ...(values.sourcerpm !== undefined ? { sourceRpm: values.sourcerpm } : {}),
    ...(values['skip-compiler-check'] ? { skipCompilerCheck: true } : {}),
    ...fullBuild,
  };
}

/** Parses kpatch-build's arguments; throws UsageError (or parseArgs' own errors) on bad ones. */
export function parseKpatchBuildArgs(argv: readonly string[], cwd = process.cwd()): KpatchBuildCommand {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: OPTIONS });
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  if (values['clean-cache']) return cleanCacheCommand(values);
  checkCombinations(values, positionals);
  const batch = isBatchSelection(values.archversion, values.shard);
  checkBatch(values, batch);
  const build = buildCommand(values, positionals, cwd, batch);
  if (!batch) return build;
  return {
    kind: 'batch',
    build,
    releases: values.archversion,
    ...(values.shard !== undefined ? { shard: parseShard(values.shard) } : {}),
  };
}

function cleanCacheCommand(values: Values): KpatchBuildCommand {
  if (values.archversion.length > 1 || values.archversion.some(isAllReleases)) {
    throw new UsageError('--clean-cache takes one -a RELEASE (or none: every release of the distro)', {
      hint: 'run it once per release',
    });
  }
  const release = values.archversion[0];
  return {
    kind: 'clean-cache',
    ...(values.distro !== undefined ? { distro: values.distro } : {}),
    ...(release !== undefined ? { release } : {}),
  };
}

/** A batch builds distro releases: not a tree (-s) nor one SRPM (-r), and every release needs its -a. */
function checkBatch(values: Values, batch: boolean): void {
  if (batch && (values.sourcedir !== undefined || values.sourcerpm !== undefined)) {
    throw new UsageError('several -a releases, -a all and --shard are for distro kernels, not -s or -r', {
      hint: 'leave out -s/-r and name the distro: --distro debian -a all',
    });
  }
  if (!batch) return;
  if (values.archversion.length === 0) {
    throw new UsageError('--shard splits a batch of releases, and no -a names one', {
      hint: 'add -a all (every release of the suite) or -a REL -a REL ...',
    });
  }
}

function buildCommand(values: Values, positionals: string[], cwd: string, batch: boolean): KpatchBuildJob {
  const maxObjects = positiveInteger(values['max-objects'], '--max-objects');
  const jobs = positiveInteger(values.jobs, '-j/--jobs');
  const oot = values['oot-module'];
  const ootSrc = values['oot-module-src'];
  const signKey = values['sign-key'];
  const signCert = values['sign-cert'];
  const cpu = parseCpuModel(values.cpu);
  return {
    kind: 'build',
    target: targetSpec(values, batch),
    job: {
      patches: positionals,
      name: livepatchModuleName(positionals, values.name),
      outputDir: resolve(cwd, values.output ?? '.'),
      replace: !values['non-replace'],
      skipCleanup: values['skip-cleanup'],
      allowFuzz: values['allow-fuzz'],
      skipCompilerCheck: values['skip-compiler-check'],
      keepWorkDir: values.debug,
      ...(oot && ootSrc ? { ootModule: { ko: oot, sourceDir: ootSrc } } : {}),
      ...(signKey && signCert ? { sign: { key: resolve(cwd, signKey), cert: resolve(cwd, signCert) } } : {}),
    },
    ...(jobs ? { jobs } : {}),
    distcc: values.distcc,
    ...(maxObjects ? { maxObjects } : {}),
    debug: values.debug,
    json: values.json,
    verify: values.verify,
    checks: values.check,
    ...(cpu ? { cpu } : {}),
    debianArchive: {
      ...(values.suite !== undefined ? { suite: values.suite } : {}),
      ignoreValidUntil: values['ignore-valid-until'],
    },
    notes: [renamedDefaultNote(positionals, values.name)].filter((n) => n !== undefined),
  };
}
