/**
 * kpatch-build for an RPM distro's kernel (Fedora): the adapter fetches and verifies the release's SRPM,
 * kernel-devel and kernel-core and runs the SRPM's %prep (src/distro/rpm-adapter.ts); here the tree is
 * made ready for kbuild once (make olddefconfig modules_prepare, the target's Module.symvers copied in,
 * so the tree itself is where the livepatch module is built against the target's CRCs), then the
 * generic build runs on it. When the data names the packages of the target's modules, objects of
 * loadable modules can be patched and the livepatch must carry their vermagic.
 */
import { createHash } from 'node:crypto';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { PreparedDistroSource } from '../distro/distro-adapter.js';
import { distroAdapter } from '../distro/distro-adapters.js';
import { checkKernelRelease } from '../distro/release-rules.js';
import type { RpmDistro } from '../distro/rpm-adapter.js';
import { runMake } from '../kbuild/run-make.js';
import type { PackageProgress } from '../source/fetch-packages.js';
import { withLock } from '../source/lock.js';
import type { PreparedBuildOptions } from './build-for-prepared-source.js';
import { buildForPreparedSource } from './build-for-prepared-source.js';
import type { TreeBuildResult } from './build-from-tree.js';

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

// Bump when the kbuild preparation below changes: the tree is prepared again.
const KBUILD_FORMAT = 1;
const STAMP = '.kpatch-build-kbuild.json';

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

/**
 * make olddefconfig modules_prepare in the prepared tree (generated headers, scripts, objtool, modpost)
 * and the target's Module.symvers in place, once: a stamp in the tree records the inputs. Under the
 * tree's build lock, so it never runs while another kpatch-build has its patch applied there.
 */
async function prepareForKbuild(source: PreparedDistroSource, options: RpmDistroBuildOptions): Promise<void> {
  const tree = source.tree;
  const stampFile = join(tree, STAMP);
  const key = JSON.stringify({
    format: KBUILD_FORMAT,
    release: source.release,
    config: await sha256(source.config),
    moduleSymvers: await sha256(source.moduleSymvers),
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
        runMake({
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
      // modpost of `make -C <tree> M=...` reads the tree's Module.symvers: the target's gives the CRCs.
      await copyFile(source.moduleSymvers, join(tree, 'Module.symvers'));
      await checkKernelRelease(tree, source.release, options.signal);
      await writeFile(stampFile, key);
    },
    signalOpt,
  );
}

/** A livepatch for an RPM distro's kernel release, from its prepared source; no kernel build. */
export async function buildForRpmDistro(options: RpmDistroBuildOptions): Promise<TreeBuildResult> {
  const { distro, release, mirror, sourceRpm, cacheDir, onProgress, onDownload, ...rest } = options;
  const label = `${NAMES[distro]} kernel ${release}`;
  options.onEvent?.({ kind: 'phase', message: `${label}: preparing its source (cached)` });
  const files: string[] = [];
  const source = await distroAdapter(distro).prepareSource(release, {
    ...(mirror ? { mirror } : {}),
    ...(sourceRpm ? { sourcePackage: sourceRpm } : {}),
    ...(cacheDir ? { cacheDir } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(onDownload
      ? {
          onDownload: (fileName, progress) => {
            if (!files.includes(fileName)) files.push(fileName);
            onDownload({
              ...progress,
              package: fileName,
              fileName,
              index: files.indexOf(fileName),
              count: 1,
            });
          },
        }
      : {}),
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
