/**
 * A Debian release's source tree prepared for kbuild outside a kpatch-build run (e2e tests, benches):
 * the same adapter path `kpatch-build --distro debian` takes (distro-target.ts) — the Debian adapter
 * prepares the target and unpacks the source, prepareForKbuild runs Debian's kbuild recipe — with the
 * toolchain given (default: the host's). Cached: a warm call does no network, no lock, no make.
 */
import { join } from 'node:path';
import { hostToolchain, type Toolchain } from '../kbuild/toolchain.js';
import { cacheRoot } from '../source/cache-dir.js';
import { debianAdapter } from './debian-adapter.js';
import type { PreparePhase } from './distro-adapter.js';
import { type PrepareOptions, prepareDebianTarget } from './prepare-debian-target.js';
import { type KbuildPhase, prepareForKbuild } from './prepare-for-kbuild.js';
import type { TargetKernel } from './target.js';

export type SourcePhase = PreparePhase | 'check' | KbuildPhase;

export interface PrepareSourceOptions extends PrepareOptions {
  /** make -j; defaults to the number of CPUs. */
  jobs?: number;
  /** Per-phase wall times in ms, for benchmarks. */
  onPhase?: (phase: SourcePhase, ms: number) => void;
  /** The target's make and compiler (a build root's, when the host's compiler is not the kernel's). */
  toolchain?: Toolchain;
  /**
   * The livepatch module is built in this tree, not the headers package; default: when the toolchain is
   * not the host's (buildsModuleInTree).
   */
  modulesInTree?: boolean;
}

export interface PreparedDebianSource {
  /** Root of the prepared tree (run `make <dir>/<file>.o` here). */
  tree: string;
  /** e.g. "6.1.0-56-amd64": what utsrelease.h and vermagic say. */
  release: string;
  /** Debian package version of both the image and linux-source packages, e.g. "6.1.192-2". */
  packageVersion: string;
  /** The tree's .config. */
  config: string;
  /** The binary target the tree was prepared for. */
  target: TargetKernel;
  /** True when this call found everything prepared already. */
  cached: boolean;
}

export async function prepareDebianSource(
  releaseSpec: string,
  options: PrepareSourceOptions = {},
): Promise<PreparedDebianSource> {
  const cacheDir = options.cacheDir ?? cacheRoot();
  const common = {
    cacheDir,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.onDownload ? { onDownload: options.onDownload } : {}),
  };
  const adapter = debianAdapter();
  const source = await adapter.prepareSource(releaseSpec, {
    ...common,
    ...(options.onPhase ? { onPhase: options.onPhase } : {}),
  });
  const toolchain = options.toolchain ?? hostToolchain;
  const modulesInTree = options.modulesInTree ?? toolchain !== hostToolchain;
  const start = performance.now();
  const recipe = await adapter.kbuildRecipe(source, { toolchain, modulesInTree });
  options.onPhase?.('check', performance.now() - start);
  const ran = await prepareForKbuild(recipe, {
    make: toolchain.make,
    ...(options.jobs ? { jobs: options.jobs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.onPhase ? { onPhase: options.onPhase } : {}),
  });
  return {
    tree: source.tree,
    release: source.release,
    packageVersion: source.packageVersion,
    config: join(source.tree, '.config'),
    target: await prepareDebianTarget(source.release, common), // cached: read from target.json
    cached: source.cached && !ran,
  };
}
