/**
 * Where a Debian target's objects are compiled: the host when its compiler is the one the kernel's
 * CONFIG_CC_VERSION_TEXT names (bookworm's gcc-12 on a bookworm host), else a build root of the release's
 * suite holding exactly that compiler (trixie's gcc-14 14.2.0-19 on a bookworm host), made once and cached.
 * The suite and the mirrors come from the tool's archive client, never from the host's apt.
 */
import { tmpdir } from 'node:os';
import { debianSuiteFor } from '../distro/resolve-debian-release.js';
import type { TargetKernel } from '../distro/target.js';
import { buildRootToolchain, ensureBuildRoot } from '../kbuild/build-root.js';
import { chooseToolchain } from '../kbuild/choose-toolchain.js';
import { hostToolchain, type Toolchain } from '../kbuild/toolchain.js';
import { INCLUDE_DIR } from '../module/write-module-dir.js';
import { cacheRoot } from '../source/cache-dir.js';
import { debianArchiveConfig } from '../source/debian-mirrors.js';
import type { BuildContext } from './build-context.js';

export interface DebianToolchainOptions {
  cacheDir?: string;
  skipCompilerCheck?: boolean;
}

/**
 * The toolchain for `target`; a build root sees the cache (trees, headers), the temporary directory (work
 * dirs) and the tool's include/ (kpatch-macros.h, which patches with callbacks or shadow helpers include).
 */
export async function debianToolchain(
  target: TargetKernel,
  options: DebianToolchainOptions,
  ctx: BuildContext,
): Promise<Toolchain> {
  const archive = debianArchiveConfig();
  const suite = debianSuiteFor(target.release);
  const choice = await chooseToolchain({
    config: target.config,
    suite,
    ...(options.skipCompilerCheck ? { skipCompilerCheck: true } : {}),
  });
  if (choice.kind === 'host') return hostToolchain;
  ctx.emit({ kind: 'note', message: `compiling in a ${suite} build root: ${choice.reason}` });
  const cache = options.cacheDir ?? cacheRoot();
  const root = await ensureBuildRoot(choice.spec, {
    cacheDir: cache,
    mirror: archive.mirror,
    securityMirror: archive.securityMirror,
    allowExpiredRelease: archive.ignoreValidUntil,
    signal: ctx.signal,
    onProgress: ctx.onProgress,
  });
  return buildRootToolchain(root, [cache, tmpdir(), INCLUDE_DIR]);
}
