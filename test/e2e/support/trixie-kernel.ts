/**
 * Debian 13's kernel for e2e tests, prepared exactly as `kpatch-build --distro debian` prepares it (the
 * product's cache layout, shared with the CLI): the tool's archive client fetches image, headers and
 * linux-source-6.12; chooseToolchain finds the host's compiler is not the kernel's gcc-14, so the source
 * is prepared (prepare, modules_prepare, the headers' Module.symvers) in the trixie build root; kallsyms
 * and the sealed functions come from booting the image once. All cached, behind locks and stamps.
 */
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { debianSealedFunctions } from '../../../src/distro/debian-sealed-functions.js';
import { prepareDebianSource } from '../../../src/distro/prepare-debian-source.js';
import { prepareDebianTarget } from '../../../src/distro/prepare-debian-target.js';
import { type BuildRoot, buildRootToolchain, ensureBuildRoot } from '../../../src/kbuild/build-root.js';
import { chooseToolchain, type ToolchainChoice } from '../../../src/kbuild/choose-toolchain.js';
import type { Toolchain } from '../../../src/kbuild/toolchain.js';
import { cacheRoot } from '../../../src/source/cache-dir.js';

export const TRIXIE_RELEASE = '6.12.118+deb13-amd64';

export interface TrixieKernel {
  release: string;
  /** The release's cache directory (kallsyms, sealed.json). */
  dir: string;
  /** Prepared source tree (make prepare modules_prepare, in the build root). */
  tree: string;
  /** The image's config. */
  config: string;
  image: string;
  moduleSymvers: string;
  kallsyms: string;
  root: BuildRoot;
  choice: ToolchainChoice;
  /** Runs commands in the build root with the cache and the temporary directory visible. */
  toolchain: Toolchain;
}

/** Debian 13's kernel, its prepared source and build root; created once, then read from the cache. */
export async function prepareTrixieKernel(): Promise<TrixieKernel> {
  const cache = cacheRoot();
  const binary = await prepareDebianTarget(TRIXIE_RELEASE);
  const choice = await chooseToolchain({ config: binary.config, suite: 'trixie' });
  if (choice.kind !== 'build-root') throw new Error(`expected a build root: ${choice.reason}`);
  const root = await ensureBuildRoot(choice.spec, { cacheDir: cache });
  const toolchain = buildRootToolchain(root, [cache, tmpdir()]);
  const source = await prepareDebianSource(TRIXIE_RELEASE, { toolchain, modulesInTree: true, jobs: 2 });
  return {
    release: TRIXIE_RELEASE,
    dir: dirname(binary.symbols.path),
    tree: source.tree,
    config: binary.config,
    image: binary.image,
    moduleSymvers: binary.moduleSymvers,
    kallsyms: binary.symbols.path,
    root,
    choice,
    toolchain,
  };
}

/** The vmlinux functions the image seals at boot (one boot with debug-alternative, cached). */
export async function trixieSealedFunctions(kernel: TrixieKernel): Promise<ReadonlySet<string>> {
  const sealed = await debianSealedFunctions({
    config: kernel.config,
    image: kernel.image,
    symbols: { path: kernel.kallsyms },
  });
  if (!sealed) throw new Error(`${kernel.config} has no CONFIG_X86_KERNEL_IBT=y`);
  return sealed;
}
