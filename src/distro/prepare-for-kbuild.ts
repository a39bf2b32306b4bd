/**
 * Makes a distro's unpacked source tree ready for kbuild, once — the one path every distro takes (Debian,
 * Ubuntu, Fedora, the RHEL family). What differs per distro is data, a `KbuildRecipe` from its adapter:
 *   1. the files written into the tree (the target's `.config`; Debian also `.kernelvariables`);
 *   2. `make olddefconfig`, then `make -jN <targets>` (generated headers, scripts, objtool, modpost);
 *   3. the release checked: utsrelease.h must say it (and `make kernelrelease` print it, for the distros
 *      whose release comes from Makefile rules);
 *   4. the distro's extra utsrelease.h defines appended (Ubuntu: UTS_UBUNTU_RELEASE_ABI, as its headers
 *      package has them) and the target's Module.symvers copied in when the livepatch module is built in
 *      the tree (modpost of `make -C <tree> M=...` reads the tree's: the target's CRCs);
 *   5. the stamp recorded: a later run with the same inputs (the recipe's key) does nothing.
 * All under the recipe's lock, re-checked once it is held, so concurrent runs prepare once.
 */
import { access, copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import { runMake } from '../kbuild/run-make.js';
import { hostToolchain, type Toolchain } from '../kbuild/toolchain.js';
import { withLock } from '../source/lock.js';
import { appendUtsDefines, checkKernelRelease } from './release-rules.js';

/** Where a recipe's stamp is kept, and whether it says the tree was prepared with the recipe's key. */
export interface KbuildStamp {
  isCurrent(): Promise<boolean>;
  /** Forgets the key before preparing, so a run killed halfway prepares again. */
  clear(): Promise<void>;
  record(): Promise<void>;
}

/** Everything one distro's tree preparation consists of (data; the steps are prepareForKbuild's). */
export interface KbuildRecipe {
  tree: string;
  /** What utsrelease.h and vermagic must say, e.g. "6.1.0-56-amd64". */
  release: string;
  /** Written into the tree before olddefconfig, in order, by name relative to the tree. */
  files: ReadonlyArray<{ name: string; text: string }>;
  /** Run after olddefconfig in one `make -jN` (modules_prepare implies prepare). */
  targets: readonly string[];
  /** Copied to the tree's Module.symvers, when the livepatch module is built in the tree. */
  moduleSymvers?: string;
  /** Lines appended to include/generated/utsrelease.h after the makes (Ubuntu's ABI define). */
  utsDefines: readonly string[];
  /** Also `make -s kernelrelease` must print the release (distros whose release comes from Makefile rules). */
  checkMakeKernelRelease: boolean;
  /** Files a prepared tree has (tools/objtool/objtool, …): a tree lacking one is prepared again. */
  products: readonly string[];
  stamp: KbuildStamp;
  lock: string;
  logFile: string;
}

export type KbuildPhase = 'configure' | 'olddefconfig' | 'prepare';

export interface KbuildPrepareOptions {
  /** make -j for the prepare targets; default: one per core. */
  jobs?: number;
  signal?: AbortSignal;
  onCommand?: (command: string) => void;
  onProgress?: (message: string) => void;
  /** Wall time of each step that ran (none when the tree was ready). */
  onPhase?: (phase: KbuildPhase, ms: number) => void;
  /** The target's make (Toolchain.make); default: the host's. */
  make?: Toolchain['make'];
}

/** A stamp file in the tree whose whole text is the key (Ubuntu, Fedora, the RHEL family). */
export function textStamp(file: string, key: string): KbuildStamp {
  return {
    isCurrent: async () => (await readFile(file, 'utf8').catch(() => '')) === key,
    clear: () => rm(file, { force: true }),
    record: () => writeFile(file, key),
  };
}

/**
 * The livepatch module is built in the prepared tree unless the distro ships a headers package made for
 * M= builds and the host compiles (a build root's kernels: the tree's tools are built by the root's compiler).
 */
export function buildsModuleInTree(source: { headersDir?: string }, toolchain: Toolchain): boolean {
  return source.headersDir === undefined || toolchain !== hostToolchain;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

async function utsReleaseSays(tree: string, release: string): Promise<boolean> {
  const uts = await readFile(join(tree, 'include/generated/utsrelease.h'), 'utf8').catch(() => '');
  return uts.includes(`"${release}"`);
}

async function isPrepared(recipe: KbuildRecipe): Promise<boolean> {
  if (!(await recipe.stamp.isCurrent())) return false;
  if (!(await utsReleaseSays(recipe.tree, recipe.release))) return false;
  for (const product of recipe.products) if (!(await exists(join(recipe.tree, product)))) return false;
  return true;
}

async function checkUtsRelease(recipe: KbuildRecipe): Promise<void> {
  if (await utsReleaseSays(recipe.tree, recipe.release)) return;
  const uts = await readFile(join(recipe.tree, 'include/generated/utsrelease.h'), 'utf8').catch(() => '');
  throw new BuildError(
    `the prepared source's utsrelease.h says ${uts.trim() || 'nothing'}, not ${recipe.release}`,
    {
      hint: "the distro's release rules (Makefile variables, .kernelvariables) did not apply; delete the tree to prepare it again",
      logPath: recipe.logFile,
    },
  );
}

/**
 * Runs the recipe unless its stamp says the tree was prepared with the same inputs. Returns whether it
 * ran (false: the tree was ready).
 */
export async function prepareForKbuild(
  recipe: KbuildRecipe,
  options: KbuildPrepareOptions = {},
): Promise<boolean> {
  if (await isPrepared(recipe)) return false;
  const timed = async <T>(phase: KbuildPhase, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      options.onPhase?.(phase, performance.now() - start);
    }
  };
  const signalOpt = options.signal ? { signal: options.signal } : {};
  const { tree, release } = recipe;
  return withLock(
    recipe.lock,
    async () => {
      if (await isPrepared(recipe)) return false;
      await recipe.stamp.clear();
      const make = (args: string[]) =>
        (options.make ?? runMake)({
          dir: tree,
          args,
          logFile: recipe.logFile,
          what: `${release} source`,
          ...signalOpt,
          ...(options.onCommand ? { onCommand: options.onCommand } : {}),
        });
      options.onProgress?.(`make olddefconfig ${recipe.targets.join(' ')} for ${release}`);
      await timed('configure', async () => {
        for (const file of recipe.files) await writeFile(join(tree, file.name), file.text);
      });
      await timed('olddefconfig', () => make(['olddefconfig']));
      const jobs = options.jobs ?? availableParallelism();
      await timed('prepare', () => make([`-j${jobs}`, ...recipe.targets]));
      await checkUtsRelease(recipe);
      // A later make in the tree regenerates utsrelease.h without them: the module build appends them again.
      await appendUtsDefines(tree, recipe.utsDefines);
      if (recipe.moduleSymvers) await copyFile(recipe.moduleSymvers, join(tree, 'Module.symvers'));
      if (recipe.checkMakeKernelRelease) await checkKernelRelease(tree, release, options.signal);
      await recipe.stamp.record();
      return true;
    },
    signalOpt,
  );
}
