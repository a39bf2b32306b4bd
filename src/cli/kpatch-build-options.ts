/**
 * kpatch-build's command line as a value, parsed and checked once (a pure function: no files, no
 * environment): what to build, for which target, and the knobs of the build context.
 */
import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { livepatchModuleName, renamedDefaultNote } from '../module/module-spec.js';
import type { LivepatchJob } from '../pipeline/build-run.js';
import type { TargetSpec } from '../pipeline/kpatch-build.js';

export type KpatchBuildCommand =
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
      /** --suite and --ignore-valid-until, put into effect by applyDebianArchiveOptions. */
      debianArchive: { suite?: string; ignoreValidUntil: boolean };
      /** Things to tell the user before the build, e.g. a default module name that had characters replaced. */
      notes: string[];
    };

export type KpatchBuildJob = Extract<KpatchBuildCommand, { kind: 'build' }>;

const OPTIONS = {
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
  version: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies NonNullable<ParseArgsConfig['options']>;

function positiveInteger(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(Number.isInteger(value) && value > 0))
    throw new UsageError(`${option} takes a positive whole number`);
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
  if ((values['sign-key'] === undefined) !== (values['sign-cert'] === undefined))
    throw new UsageError('--sign-key and --sign-cert go together', {
      hint: 'the private key and its certificate',
    });
  if (positionals.length === 0)
    throw new UsageError('no patch given', { hint: 'kpatch-build -s DIR PATCH...' });
}

function targetSpec(values: Values): TargetSpec {
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
    ...(values.archversion !== undefined ? { release: values.archversion } : {}),
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
  if (values['clean-cache']) {
    return {
      kind: 'clean-cache',
      ...(values.distro !== undefined ? { distro: values.distro } : {}),
      ...(values.archversion !== undefined ? { release: values.archversion } : {}),
    };
  }
  checkCombinations(values, positionals);
  const maxObjects = positiveInteger(values['max-objects'], '--max-objects');
  const jobs = positiveInteger(values.jobs, '-j/--jobs');
  const oot = values['oot-module'];
  const ootSrc = values['oot-module-src'];
  const signKey = values['sign-key'];
  const signCert = values['sign-cert'];
  return {
    kind: 'build',
    target: targetSpec(values),
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
    debianArchive: {
      ...(values.suite !== undefined ? { suite: values.suite } : {}),
      ignoreValidUntil: values['ignore-valid-until'],
    },
    notes: [renamedDefaultNote(positionals, values.name)].filter((n) => n !== undefined),
  };
}
