/**
 * kpatch-build for an Ubuntu kernel release: the adapter finds the release in the archive's indexes,
 * fetches and verifies the `linux` source package (or the one linux-headers-<release> names, e.g.
 * linux-hwe-6.8), linux-headers-, linux-modules-(extra-) and linux-image-unsigned-<release>, and unpacks
 * the source as dpkg-source -x does (src/distro/ubuntu-adapter.ts). Here the tree is made ready for kbuild
 * once (shared with the RPM distros), with UTS_UBUNTU_RELEASE_ABI appended to utsrelease.h as Ubuntu's
 * headers package has it; then the generic prepared-source build runs on it, with System.map for
 * vmlinux's symbols, the shipped modules for module targets and vermagic, and the image for --verify.
 */
import { join } from 'node:path';
import { distroAdapter } from '../distro/distro-adapters.js';
import type { PackageProgress } from '../source/fetch-packages.js';
import type { PreparedBuildOptions } from './build-for-prepared-source.js';
import { buildForPreparedSource } from './build-for-prepared-source.js';
import type { TreeBuildResult } from './build-from-tree.js';
import { packageDownloadProgress } from './package-download-progress.js';
import { prepareForKbuild } from './prepare-for-kbuild.js';

export type UbuntuBuildOptions = PreparedBuildOptions & {
  /** The target's release, as uname -r prints it (5.15.0-91-generic). */
  release: string;
  /** Replaces the archive's base URL (else KPATCH_MIRROR_UBUNTU, else distro/ubuntu.json's). */
  mirror?: string;
  cacheDir?: string;
  onProgress?: (message: string) => void;
  onDownload?: (progress: PackageProgress) => void;
};

/** A livepatch for an Ubuntu kernel release, from its prepared source; no kernel build. */
export async function buildForUbuntu(options: UbuntuBuildOptions): Promise<TreeBuildResult> {
  const { release, mirror, cacheDir, onProgress, onDownload, ...rest } = options;
  const label = `Ubuntu kernel ${release}`;
  options.onEvent?.({ kind: 'phase', message: `${label}: preparing its source (cached)` });
  const source = await distroAdapter('ubuntu').prepareSource(release, {
    ...(mirror ? { mirror } : {}),
    ...(cacheDir ? { cacheDir } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(onDownload ? { onDownload: packageDownloadProgress(onDownload) } : {}),
  });
  await prepareForKbuild(source, options);
  return buildForPreparedSource(
    {
      label,
      tree: source.tree,
      config: join(source.tree, '.config'),
      symbols: source.systemMap,
      moduleSymvers: source.moduleSymvers,
      moduleBuildDir: source.tree,
      utsDefines: source.utsDefines,
      ...(source.image ? { image: source.image } : {}),
      ...(source.modulesDir ? { modulesDir: source.modulesDir } : {}),
    },
    rest,
  );
}
