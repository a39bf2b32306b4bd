import { join } from 'node:path';
import { prepareDebianSource } from '../distro/prepare-debian-source.js';
import type { PackageProgress } from '../source/fetch-packages.js';
import type { PreparedBuildOptions } from './build-for-prepared-source.js';
import { buildForPreparedSource } from './build-for-prepared-source.js';
import type { TreeBuildResult } from './build-from-tree.js';

export type DebianBuildOptions = PreparedBuildOptions & {
  /** A Debian kernel release (6.1.0-56-amd64) or "latest". */
  release: string;
  onProgress?: (message: string) => void;
  onDownload?: (progress: PackageProgress) => void;
};

/**
 * A livepatch for a Debian kernel release without building the kernel: the release's own source tree,
 * prepared once (prepareDebianSource), compiles just the objects the patch touches; vmlinux's symbols
 * are the kallsyms of the booted image; the module is built in that tree against the target's
 * Module.symvers and must carry its vermagic.
 */
export async function buildForDebian(options: DebianBuildOptions): Promise<TreeBuildResult> {
  const { release, onProgress, onDownload, ...rest } = options;
  options.onEvent?.({ kind: 'phase', message: `Debian kernel ${release}: preparing its source (cached)` });
  // Source preparation phases (all near zero once cached) join the build's own timings.
  const sourceTimings: Record<string, number> = {};
  const source = await prepareDebianSource(release, {
    onPhase: (phase, ms) => {
      sourceTimings[`source ${phase}`] = Math.round(ms);
    },
    ...(options.jobs ? { jobs: options.jobs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(onDownload ? { onDownload } : {}),
  });
  const target = source.target;
  if (release === 'latest') {
    options.onEvent?.({ kind: 'note', message: `Debian kernel latest is ${target.release}` });
  }
  const result = await buildForPreparedSource(
    {
      label: `Debian kernel ${target.release}`,
      tree: source.tree,
      config: join(source.tree, '.config'),
      symbols: target.symbols.path,
      moduleSymvers: target.moduleSymvers,
      // The headers package is made for M= builds: its Module.symvers gives modpost the CRCs.
      moduleBuildDir: target.buildDir,
      ...(target.modulesDir ? { modulesDir: target.modulesDir } : {}),
      image: target.image,
    },
    rest,
  );
  return { ...result, timings: { ...sourceTimings, ...result.timings } };
}
