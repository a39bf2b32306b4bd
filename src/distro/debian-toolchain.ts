/**
 * Where a Debian target's objects are compiled: the host when its compiler is the one the kernel's
 * CONFIG_CC_VERSION_TEXT names (bookworm's gcc-12 on a bookworm host), else a build root of the release's
 * suite holding exactly that compiler (trixie's gcc-14 14.2.0-19 on a bookworm host), made once and cached.
 * The suite and the mirrors come from the tool's archive client, never from the host's apt.
 */
import { tmpdir } from 'node:os';
import { buildRootToolchain, ensureBuildRoot } from '../kbuild/build-root.js';
import { chooseToolchain } from '../kbuild/choose-toolchain.js';
import { hostToolchain, type Toolchain } from '../kbuild/toolchain.js';
import { INCLUDE_DIR } from '../module/write-module-dir.js';
import { cacheRoot } from '../source/cache-dir.js';
import { debianArchiveConfig } from '../source/debian-mirrors.js';
import type { ToolchainOptions } from './distro-adapter.js';
import { debianSuiteFor } from './resolve-debian-release.js';

/**
 * The toolchain for `target`; a build root sees the cache (trees, headers), the temporary directory (work
 * dirs) and the tool's include/ (kpatch-macros.h, which patches with callbacks or shadow helpers include).
 */
export async function debianToolchain(
  target: { release: string; config: string },
  options: ToolchainOptions,
): Promise<Toolchain> {
  const archive = debianArchiveConfig();
  const suite = debianSuiteFor(target.release);
  const choice = await chooseToolchain({
    config: target.config,
    suite,
    ...(options.skipCompilerCheck ? { skipCompilerCheck: true } : {}),
  });
  if (choice.kind === 'host') return hostToolchain;
  options.onNote?.(`compiling in a ${suite} build root: ${choice.reason}`);
  const cache = options.cacheDir ?? cacheRoot();
  const root = await ensureBuildRoot(choice.spec, {
    cacheDir: cache,
    mirror: archive.mirror,
    securityMirror: archive.securityMirror,
    allowExpiredRelease: archive.ignoreValidUntil,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return buildRootToolchain(root, [cache, tmpdir(), INCLUDE_DIR]);
}
