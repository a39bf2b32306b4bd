/**
 * kpatch-build for an RPM distro's kernel (Fedora, the RHEL family): the adapter fetches and verifies the
 * release's SRPM, kernel-devel, kernel-core and the modules packages and runs the SRPM's %prep
 * (src/distro/rpm-adapter.ts); here the tree is made ready for kbuild once (prepare-for-kbuild.ts: make
 * olddefconfig modules_prepare, the target's Module.symvers copied in, so the tree itself is where the
 * livepatch module is built against the target's CRCs), then the generic build runs on it. When the data
 * names the packages of the target's modules, objects of loadable modules can be patched and the
 * livepatch must carry their vermagic.
 */
import { join } from 'node:path';
import { distroAdapter } from '../distro/distro-adapters.js';
import type { RpmDistro } from '../distro/rpm-adapter.js';
import type { PackageProgress } from '../source/fetch-packages.js';
import type { PreparedBuildOptions } from './build-for-prepared-source.js';
import { buildForPreparedSource } from './build-for-prepared-source.js';
import type { TreeBuildResult } from './build-from-tree.js';
import { packageDownloadProgress } from './package-download-progress.js';
import { prepareForKbuild } from './prepare-for-kbuild.js';

const NAMES: Record<RpmDistro, string> = {
  fedora: 'Fedora',
  centos: 'CentOS Stream',
  almalinux: 'AlmaLinux',
  rocky: 'Rocky Linux',
  ol: 'Oracle Linux',
};

export type RpmDistroBuildOptions = PreparedBuildOptions & {
  distro: RpmDistro;
  /** The target's release, as uname -r prints it (6.5.6-300.fc39.x86_64). */
  release: string;
  /** Replaces the distro's base URLs (else KPATCH_MIRROR_<ID>, else the data's). */
  mirror?: string;
  /** A local kernel SRPM to build from instead of the distro's (kpatch-build -r). */
  sourceRpm?: string;
  cacheDir?: string;
  onProgress?: (message: string) => void;
  onDownload?: (progress: PackageProgress) => void;
};

/** A livepatch for an RPM distro's kernel release, from its prepared source; no kernel build. */
export async function buildForRpmDistro(options: RpmDistroBuildOptions): Promise<TreeBuildResult> {
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
      ...(source.image ? { image: source.image } : {}),
      ...(source.modulesDir ? { modulesDir: source.modulesDir } : {}),
    },
    rest,
  );
}
