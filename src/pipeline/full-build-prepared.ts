/**
 * --full-build for a distro kernel: its prepared tree is built once (make all, or the -t targets), as
 * kpatch-build does for every run. Then kbuild's records (.*.cmd) list what each object includes, so a
 * patch to a header reaches every object it changes; without them header changes are refused.
 */
import { createHash } from 'node:crypto';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { runMake } from '../kbuild/run-make.js';
import type { Toolchain } from '../kbuild/toolchain.js';
import { withLock } from '../source/lock.js';

const STAMP = '.kpatch-build-full.json';

export interface FullBuildOptions {
  /** make targets (kpatch-build -t); default all. */
  targets?: readonly string[];
  jobs?: number;
  /** The target's Module.symvers, put back when the build wrote the tree's own over it. */
  moduleSymvers?: string;
  signal?: AbortSignal;
  onCommand?: (command: string) => void;
  /** The target's make (Toolchain.make); default: the host's. */
  make?: Toolchain['make'];
}

const configKey = async (tree: string) =>
  createHash('sha256')
    .update(await readFile(join(tree, '.config')))
    .digest('hex');

/** True when the tree was fully built with its current .config (by buildPreparedTree). */
export async function isFullyBuilt(tree: string): Promise<boolean> {
  const stamp = await readFile(join(tree, STAMP), 'utf8').catch(() => '');
  if (stamp === '') return false;
  return (JSON.parse(stamp) as { config: string }).config === (await configKey(tree));
}

/**
 * Builds the prepared tree once; later calls find the stamp and return false at once. Under the tree's
 * build lock, so it never runs while another kpatch-build has its patch applied there.
 */
export async function buildPreparedTree(tree: string, options: FullBuildOptions): Promise<boolean> {
  if (await isFullyBuilt(tree)) return false;
  const signalOpt = options.signal ? { signal: options.signal } : {};
  return withLock(
    join(tree, '.kpatch-build.lock'),
    async () => {
      if (await isFullyBuilt(tree)) return false;
      await rm(join(tree, STAMP), { force: true });
      const targets = options.targets ?? [];
      await (options.make ?? runMake)({
        dir: tree,
        args: [`-j${options.jobs ?? availableParallelism()}`, ...targets],
        logFile: join(tree, '.kpatch-build-full.log'),
        what: `the kernel tree (make ${targets.length > 0 ? targets.join(' ') : 'all'})`,
        ...signalOpt,
        ...(options.onCommand ? { onCommand: options.onCommand } : {}),
      });
      // modpost wrote this build's CRCs; the livepatch must be checked against the target's.
      if (options.moduleSymvers) await copyFile(options.moduleSymvers, join(tree, 'Module.symvers'));
      await writeFile(join(tree, STAMP), JSON.stringify({ config: await configKey(tree), targets }));
      return true;
    },
    signalOpt,
  );
}
