/**
 * Makes a distro's prepared source tree ready for kbuild, once: the target's config in place,
 * `make olddefconfig modules_prepare` (generated headers, scripts, objtool, modpost), the distro's extra
 * utsrelease.h defines appended (Ubuntu: UTS_UBUNTU_RELEASE_ABI, as its headers package has them), the
 * target's Module.symvers copied in (modpost of `make -C <tree> M=...` reads the tree's: the target's
 * CRCs), and `make kernelrelease` checked against the release. A stamp in the tree records the inputs,
 * so a later run with the same ones does nothing. Shared by the RPM distros and Ubuntu.
 */
import { createHash } from 'node:crypto';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { PreparedDistroSource } from '../distro/distro-adapter.js';
import { appendUtsDefines, checkKernelRelease } from '../distro/release-rules.js';
import { runMake } from '../kbuild/run-make.js';
import type { Toolchain } from '../kbuild/toolchain.js';
import { withLock } from '../source/lock.js';

export interface KbuildPrepareOptions {
  /** make -j for modules_prepare; default: one per core. */
  jobs?: number;
  signal?: AbortSignal;
  onCommand?: (command: string) => void;
  onProgress?: (message: string) => void;
  /** The target's make (Toolchain.make); default: the host's. */
  make?: Toolchain['make'];
}

// Bump when the preparation below changes: the tree is prepared again.
const KBUILD_FORMAT = 1;
export const KBUILD_STAMP = '.kpatch-build-kbuild.json';

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

/**
 * Runs the preparation unless the tree's stamp says it was done with the same inputs. Under the tree's
 * build lock, so it never runs while another kpatch-build has its patch applied there.
 */
export async function prepareForKbuild(
  source: PreparedDistroSource,
  options: KbuildPrepareOptions = {},
): Promise<void> {
  const tree = source.tree;
  const stampFile = join(tree, KBUILD_STAMP);
  const key = JSON.stringify({
    format: KBUILD_FORMAT,
    release: source.release,
    config: await sha256(source.config),
    moduleSymvers: await sha256(source.moduleSymvers),
    // Only when there are some: the RPM distros' stamps stay as they were.
    ...(source.utsDefines.length > 0 ? { utsDefines: source.utsDefines } : {}),
  });
  const isWarm = async () => (await readFile(stampFile, 'utf8').catch(() => '')) === key;
  if (await isWarm()) return;
  const signalOpt = options.signal ? { signal: options.signal } : {};
  await withLock(
    join(tree, '.kpatch-build.lock'),
    async () => {
      if (await isWarm()) return;
      await rm(stampFile, { force: true });
      const logFile = join(tree, '.kpatch-build-prepare.log');
      const make = (args: string[]) =>
        (options.make ?? runMake)({
          dir: tree,
          args,
          logFile,
          what: `${source.release} source`,
          ...signalOpt,
          ...(options.onCommand ? { onCommand: options.onCommand } : {}),
        });
      options.onProgress?.(`make olddefconfig modules_prepare for ${source.release}`);
      await copyFile(source.config, join(tree, '.config'));
      await make(['olddefconfig']);
      await make([`-j${options.jobs ?? availableParallelism()}`, 'modules_prepare']);
      // A later make in the tree regenerates utsrelease.h without them: the module build appends them again.
      await appendUtsDefines(tree, source.utsDefines);
      await copyFile(source.moduleSymvers, join(tree, 'Module.symvers'));
      await checkKernelRelease(tree, source.release, options.signal);
      await writeFile(stampFile, key);
    },
    signalOpt,
  );
}
