import { appendFileSync } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readElfFile } from '../elf/index.js';
import { isKpatchError, UsageError } from '../errors.js';
import { checkCompiler } from '../kbuild/compiler-check.js';
import type { ObjectParent } from '../kbuild/object-parent.js';
import { moduleNameFromPath } from '../kbuild/object-parent.js';
import { runMake } from '../kbuild/run-make.js';
import { modinfoValue } from '../module/modinfo.js';
import { fuzzOption } from '../patch/hunk-notes.js';
import type { HunkNote } from '../patch/test-patches.js';
import { withLock } from '../source/lock.js';
import { buildLivepatchModule } from './build-module.js';
import type { OotModule } from './compile-changed-objects.js';
import { compileChangedObjects } from './compile-changed-objects.js';
import { diffObjectPairs } from './diff-object-pairs.js';
import type { ObjectChanges } from './plan-module.js';
import { planModule } from './plan-module.js';

export interface TreeBuildOptions {
  /** A kernel tree built for the running kernel (kpatch-build -s). */
  sourceDir: string;
  patches: string[];
  /** Module name (already sanitised, see livepatchModuleName). */
  name: string;
  outputDir: string;
  config?: string;
  vmlinux?: string;
  replace: boolean;
  skipCleanup?: boolean;
  /** Apply hunks that need fuzz (--allow-fuzz); refused by default. */
  allowFuzz?: boolean;
  skipCompilerCheck?: boolean;
  /** Compilers run at once (-j); default: one per core. */
  jobs?: number;
  /**
   * An external module the patches are for (kpatch-build --oot-module/--oot-module-src), built with
   * `make -C <kernel build dir> M=<its source>` against the target.
   */
  ootModule?: { ko: string; sourceDir: string };
  /** Build the whole tree first (kbuild), for trees that were never built or are out of date. */
  fullBuild?: boolean;
  /** make targets for --full-build (default: kbuild's all: vmlinux, bzImage, modules). */
  buildTargets?: string[];
  /** Refuse to rebuild more objects than this (a header change can reach thousands). */
  maxObjects?: number;
  /**
   * For trees that were prepared, not built (distro sources): vmlinux's symbols from a kallsyms dump,
   * the target's Module.symvers and vermagic, how to build the touched objects first so kbuild records
   * them, and where objects belong.
   */
  distro?: {
    kallsyms: string;
    moduleSymvers: string;
    /** Where the livepatch module is built (`make -C`). */
    moduleBuildDir: string;
    /** The vermagic of the target's own modules; the check is skipped when it is not known. */
    vermagic?: string;
    buildTouchedObjects: (touched: string[]) => Promise<void>;
    parentOf: (target: string) => ObjectParent;
    /** The target's bootable image (for --verify), when fetched. */
    image?: string;
    /**
     * The tree was fully built: kbuild's link records (built-in.a, modules.order) say whether an object is
     * in vmlinux, in a module (then parentOf names the target's), or in neither (boot, vDSO: refused).
     */
    linkedParents?: boolean;
    /** Runs after the objects are compiled, before the livepatch module is built in moduleBuildDir. */
    beforeModuleBuild?: () => Promise<void>;
  };
  /** Each command line before it runs (make, the compiles), for -d. */
  onCommand?: (command: string) => void;
  /** Keep the work dir (-d). */
  keepWorkDir?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: BuildEvent) => void;
}

export type BuildEvent =
  | { kind: 'phase'; message: string }
  | { kind: 'function'; object: string; function: string; change: 'changed' | 'new' }
  | { kind: 'note'; message: string };

export interface TreeBuildResult {
  module: string;
  name: string;
  changes: ObjectChanges[];
  parents: string[];
  /** The loadable modules the livepatch patches (their .ko files), for late-patching checks. */
  targetModules: string[];
  /** The target's bootable image, when known (the tree's bzImage, or the distro's), for --verify. */
  image: string | undefined;
  workDir: string | undefined;
  timings: Record<string, number>;
  /** Hunks that applied at an offset or, with --allow-fuzz, with fuzz. */
  hunks: HunkNote[];
}

/** --oot-module: checks the pair of paths and reads the module's name from its .modinfo. */
async function describeOotModule(given: { ko: string; sourceDir: string }): Promise<OotModule> {
  const ko = await mustExist(resolve(given.ko), 'out-of-tree module', 'pass the built .ko with --oot-module');
  const sourceDir = await mustExist(
    resolve(given.sourceDir),
    'out-of-tree module source',
    'pass its source directory with --oot-module-src',
  );
  const name = modinfoValue(await readElfFile(ko), 'name') ?? moduleNameFromPath(ko);
  return { ko, sourceDir, name };
}

/** A build event as one line of text, as the plain output shows it. */
export function describeEvent(event: BuildEvent): string {
  return event.kind === 'function'
    ? `${event.object}: ${event.change} function: ${event.function}`
    : event.message;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function mustExist(path: string, what: string, hint: string): Promise<string> {
  await access(path).catch(() => {
    throw new UsageError(`${what} not found: ${path}`, { hint });
  });
  return path;
}

/** The vermagic of a module the tree built itself, which the new module must match. */
async function treeVermagic(tree: string): Promise<string | undefined> {
  const order = await readFile(join(tree, 'modules.order'), 'utf8').catch(() => '');
  const first = order.split('\n').find((l) => l.trim() !== '');
  if (!first) return undefined;
  const ko = join(tree, first.trim().replace(/\.o$/, '.ko'));
  const elf = await readElfFile(ko).catch(() => undefined);
  return elf ? modinfoValue(elf, 'vermagic') : undefined;
}

/** --full-build: kbuild brings the tree up to date, so its records (.cmd files) cover every object. */
async function buildWholeTree(tree: string, options: TreeBuildOptions): Promise<void> {
  const targets = options.buildTargets ?? [];
  await runMake({
    dir: tree,
    args: [`-j${options.jobs ?? availableParallelism()}`, ...targets],
    logFile: join(tree, '.kpatch-build-full.log'),
    what: `the kernel tree (make ${targets.length > 0 ? targets.join(' ') : 'all'})`,
    ...(options.onCommand ? { onCommand: options.onCommand } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/**
 * kpatch-build's -s mode: from a built kernel tree and patches to a livepatch module. The steps:
 * check inputs and compiler; test the patches; find the objects they affect from kbuild's records;
 * compile those twice (original, patched); diff each pair; plan the module; build it with kbuild;
 * convert its relocations; check it.
 */
export async function buildFromTree(options: TreeBuildOptions): Promise<TreeBuildResult> {
  const notify = options.onEvent ?? (() => {});
  let emit = notify;
  const timings: Record<string, number> = {};
  let last = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - last);
    last = now;
  };
  const tree = resolve(options.sourceDir);
  const distro = options.distro;
  await mustExist(join(tree, 'Makefile'), 'kernel tree', 'pass the top of a kernel source tree with -s');
  const config = await mustExist(options.config ?? join(tree, '.config'), 'kernel config', 'pass it with -c');
  if (options.fullBuild) {
    if (distro) throw new UsageError('--full-build of a distro tree is done by buildForPreparedSource');
    emit({ kind: 'phase', message: 'Building the kernel tree (--full-build)' });
    await buildWholeTree(tree, options);
    lap('full build');
  }
  const vmlinux = distro
    ? undefined
    : await mustExist(
        options.vmlinux ?? join(tree, 'vmlinux'),
        'vmlinux',
        'build the tree (or pass --full-build), or pass -v',
      );
  const moduleSymvers = await mustExist(
    distro?.moduleSymvers ?? join(tree, 'Module.symvers'),
    'Module.symvers',
    'build the tree first',
  );
  const vmlinuxSymbols = distro
    ? { format: 'kallsyms' as const, path: distro.kallsyms }
    : { format: 'elf' as const, path: vmlinux ?? '' };
  const patches = await Promise.all(
    options.patches.map((p) => mustExist(resolve(p), 'patch', 'check the patch path')),
  );
  if (!options.skipCompilerCheck) await checkCompiler(vmlinux ? { config, vmlinux } : { config });
  lap('checks');

  const oot = options.ootModule ? await describeOotModule(options.ootModule) : undefined;
  // The patches are applied to the tree itself while the patched objects compile: one run at a time.
  const workDir = await mkdtemp(join(tmpdir(), 'kpatch-build-'));
  // build.log: what the user saw, with times; kept with the per-object logs beside it.
  const buildLog = join(workDir, 'build.log');
  const started = performance.now();
  const log = (line: string) =>
    appendFileSync(buildLog, `[${((performance.now() - started) / 1000).toFixed(2)}s] ${line}\n`);
  log(`kpatch-build ${options.name}: tree ${tree}, patches ${patches.join(' ')}`);
  emit = (event) => {
    log(describeEvent(event));
    notify(event);
  };
  let succeeded = false;
  let compiling = false;
  try {
    const { hunkNotes, affected, pairs, structSizes } = await withLock(
      join(oot?.sourceDir ?? tree, '.kpatch-build.lock'),
      () =>
        compileChangedObjects({
          tree,
          patches,
          workDir,
          ...(options.maxObjects ? { maxObjects: options.maxObjects } : {}),
          ...(options.skipCleanup ? { skipCleanup: true } : {}),
          ...fuzzOption(options.allowFuzz),
          ...(options.jobs ? { jobs: options.jobs } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(distro ? { distro } : {}),
          ...(oot ? { ootModule: oot } : {}),
          ...(options.onCommand ? { onCommand: options.onCommand } : {}),
          emit,
          lap,
          onCompileStart: () => {
            compiling = true;
          },
        }),
      {
        ...(options.signal ? { signal: options.signal } : {}),
        onWait: (holder) =>
          emit({
            kind: 'note',
            message: `waiting for another kpatch-build (pid ${holder.pid}) using ${tree}`,
          }),
      },
    );

    emit({ kind: 'phase', message: 'Extracting new and modified ELF sections' });
    const changed = await diffObjectPairs({
      pairs,
      tree,
      vmlinuxSymbols,
      moduleSymvers,
      structSizes,
      ...(options.jobs ? { threads: options.jobs } : {}),
    });
    const plan = await planModule(changed, {
      name: options.name,
      replace: options.replace,
      workDir: join(workDir, 'linked'),
    });
    for (const change of plan.changes) {
      for (const fn of change.changed)
        emit({ kind: 'function', object: change.object, function: fn, change: 'changed' });
      for (const fn of change.added)
        emit({ kind: 'function', object: change.object, function: fn, change: 'new' });
      for (const what of change.ignored) {
        emit({ kind: 'note', message: `${change.object}: changes to ${what} ignored (KPATCH_IGNORE_*)` });
      }
      for (const u of change.untraced) {
        emit({
          kind: 'note',
          message: `${change.object}: ${u.function}() cannot be traced (notrace): patching its callers ${u.callers.join(', ')} with the new copy`,
        });
      }
    }
    const parentNames = [...new Set(plan.changes.map((c) => c.parent))];
    emit({ kind: 'phase', message: `Patched objects: ${parentNames.join(' ')}` });
    lap('diff');

    emit({ kind: 'phase', message: `Building patch module: ${options.name}.ko` });
    const targetModules = [
      ...new Set(
        affected.objects.flatMap((o) => (o.parent.kind === 'module' ? [resolve(tree, o.parent.path)] : [])),
      ),
    ];
    const expectedVermagic = distro ? distro.vermagic : await treeVermagic(tree);
    await distro?.beforeModuleBuild?.();
    const module = await buildLivepatchModule({
      spec: plan.spec,
      buildDir: distro?.moduleBuildDir ?? tree,
      moduleSymvers,
      ...(vmlinux ? { vmlinux } : { systemMap: vmlinuxSymbols.path }),
      targetModules,
      workDir,
      outputDir: options.outputDir,
      ...(expectedVermagic ? { expectedVermagic } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onCommand ? { onCommand: options.onCommand } : {}),
    });
    lap('module');
    succeeded = true;
    const treeImage = join(tree, 'arch/x86/boot/bzImage');
    return {
      module,
      name: options.name,
      changes: plan.changes,
      parents: parentNames,
      targetModules,
      image: distro ? distro.image : (await exists(treeImage)) ? treeImage : undefined,
      workDir: options.keepWorkDir ? workDir : undefined,
      timings,
      hunks: hunkNotes,
    };
  } catch (error) {
    log(`failed: ${error instanceof Error ? error.message : String(error)}`);
    if (isKpatchError(error) && !error.logPath && compiling) error.logPath = buildLog;
    throw error;
  } finally {
    log(`timings (ms): ${JSON.stringify(timings)}`);
    // The work dir holds the compile and module logs: kept on a failure once compiling began, and with -d.
    if (options.keepWorkDir || (!succeeded && compiling)) {
      emit({ kind: 'note', message: `work directory kept: ${workDir}` });
    } else {
      await rm(workDir, { recursive: true, force: true });
    }
  }
}
