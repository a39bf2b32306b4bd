/**
 * The kbuild recipe of the distros whose source comes through prepareDistroSource (Ubuntu, Fedora, the
 * RHEL family): the target's config as .config, `make modules_prepare`, the target's Module.symvers and
 * the distro's utsrelease.h defines, `make kernelrelease` checked (their release comes from Makefile
 * rules), the stamp in the tree keyed by the release and the hashes of the config and Module.symvers.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KbuildHow, PreparedDistroSource } from './distro-adapter.js';
import { type KbuildRecipe, textStamp } from './prepare-for-kbuild.js';

// Bump when the preparation changes: the trees are prepared again.
const KBUILD_FORMAT = 1;
export const KBUILD_STAMP = '.kpatch-build-kbuild.json';

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

export async function distroKbuildRecipe(
  source: PreparedDistroSource,
  how: KbuildHow,
): Promise<KbuildRecipe> {
  const tree = source.tree;
  const key = JSON.stringify({
    format: KBUILD_FORMAT,
    release: source.release,
    config: await sha256(source.config),
    moduleSymvers: await sha256(source.moduleSymvers),
    // Only when there are some: the RPM distros' stamps stay as they were.
    ...(source.utsDefines.length > 0 ? { utsDefines: source.utsDefines } : {}),
  });
  return {
    tree,
    release: source.release,
    files: [{ name: '.config', text: await readFile(source.config, 'utf8') }],
    targets: ['modules_prepare'],
    ...(how.modulesInTree ? { moduleSymvers: source.moduleSymvers } : {}),
    utsDefines: source.utsDefines,
    checkMakeKernelRelease: true,
    products: [],
    stamp: textStamp(join(tree, KBUILD_STAMP), key),
    // The tree's build lock: never prepared while another kpatch-build has its patch applied there.
    lock: join(tree, '.kpatch-build.lock'),
    logFile: join(tree, '.kpatch-build-prepare.log'),
  };
}
