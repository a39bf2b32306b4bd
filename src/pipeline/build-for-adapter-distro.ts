/**
 * kpatch-build for a kernel of a distro with an adapter (Ubuntu, Fedora, the RHEL family): the adapter
 * finds the release, fetches and verifies its source and binary packages and prepares the tree
 * (src/distro/*-adapter.ts: dpkg-source -x for Ubuntu, the SRPM's %prep for the RPM distros); here the
 * tree is made ready for kbuild once (prepare-for-kbuild.ts: make olddefconfig modules_prepare, the
 * target's Module.symvers copied in, so the tree itself is where the livepatch module is built against
 * the target's CRCs), then the generic prepared-source build runs on it, with System.map for vmlinux's
 * symbols, the shipped modules for module targets and vermagic, the image for --verify, and the distro's
 * utsrelease.h lines (Ubuntu's UTS_UBUNTU_RELEASE_ABI) put back before the module build.
 */
import { join } from 'node:path';
import type { AdapterDistro } from '../distro/distro-adapter.js';
import { distroAdapter } from '../distro/distro-adapters.js';
import type { PackageProgress } from '../source/fetch-packages.js';
import type { PreparedBuildOptions } from './build-for-prepared-source.js';
import { buildForPreparedSource } from './build-for-prepared-source.js';
import type { TreeBuildResult } from './build-from-tree.js';
import { packageDownloadProgress } from './package-download-progress.js';
import { prepareForKbuild } from './prepare-for-kbuild.js';

const NAMES: Record<AdapterDistro, string> = {
  ubuntu: 'Ubuntu',
  fedora: 'Fedora',
  centos: 'CentOS Stream',
  almalinux: 'AlmaLinux',
  rocky: 'Rocky Linux',
  ol: 'Oracle Linux',
};

export type AdapterDistroBuildOptions = PreparedBuildOptions & {
  distro: AdapterDistro;
  /** The target's release, as uname -r prints it (5.15.0-91-generic, 6.5.6-300.fc39.x86_64). */
  release: string;
  /** Replaces the distro's base URLs (else KPATCH_MIRROR_<ID>, else the data's). */
  mirror?: string;
  /** A local kernel SRPM to build from instead of the distro's (kpatch-build -r; RPM distros). */
  sourceRpm?: string;
  cacheDir?: string;
  onProgress?: (message: string) => void;
  onDownload?: (progress: PackageProgress) => void;
};

/** A livepatch for a distro kernel release, from its prepared source; no kernel build. */
export async function buildForAdapterDistro(options: AdapterDistroBuildOptions): Promise<TreeBuildResult> {
  const { distro, release, mirror, sourceRpm, cacheDir, onProgress, onDownload, ...rest } = options;
  const label = `${NAMES[distro]} kernel ${release}`;
  options.onEvent?.({ kind: 'phase', message: `${label}: preparing its source (cached)` });
  const source = await distroAdapter(distro).prepareSource(release, {
    ...(mirror ? { mirror } : {}),
    ...(sourceRpm ? { sourcePackage: sourceRpm } : {}),
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
