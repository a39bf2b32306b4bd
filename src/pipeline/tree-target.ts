/**
 * kpatch-build -s DIR: a kernel tree built for the target (or built here first with --full-build) is its
 * own target: vmlinux for symbols and the compiler check, its Module.symvers and modules' vermagic, its
 * bzImage, kbuild's link records for where objects belong.
 */
import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readElfFile } from '../elf/index.js';
import { hostToolchain, type Toolchain } from '../kbuild/toolchain.js';
import { modinfoValue } from '../module/modinfo.js';
import type { BuildContext } from './build-context.js';
import { runStep } from './build-events.js';
import type { BuildTarget } from './build-target.js';
import { mustExist } from './steps/check-inputs.js';

export interface TreeTargetSpec {
  /** A kernel tree built for the running kernel (kpatch-build -s). */
  sourceDir: string;
  config?: string;
  vmlinux?: string;
  /** Build the whole tree first (kbuild), for trees that were never built or are out of date. */
  fullBuild?: boolean;
  /** make targets for --full-build (default: kbuild's all: vmlinux, bzImage, modules). */
  buildTargets?: readonly string[];
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** The vermagic of a module the tree built itself, which the new module must match. */
async function treeVermagic(tree: string): Promise<string | undefined> {
  const order = await readFile(join(tree, 'modules.order'), 'utf8').catch(() => '');
  const first = order.split('\n').find((l) => l.trim() !== '');
  if (!first) return undefined;
  const ko = join(tree, first.trim().replace(/\.o$/, '.ko'));
  const elf = await readElfFile(ko).catch(() => undefined);
  return elf ? modinfoValue(elf, 'vermagic') : undefined;
}

/** --full-build: kbuild brings the tree up to date, so its records (.cmd files) cover every object. */
async function buildWholeTree(
  tree: string,
  targets: readonly string[],
  toolchain: Toolchain,
  ctx: BuildContext,
): Promise<void> {
  ctx.emit({ kind: 'phase', message: 'Building the kernel tree (--full-build)' });
  await toolchain.make({
    dir: tree,
    args: [`-j${ctx.jobs}`, ...targets],
    logFile: join(tree, '.kpatch-build-full.log'),
    what: `the kernel tree (make ${targets.length > 0 ? targets.join(' ') : 'all'})`,
    signal: ctx.signal,
    onCommand: ctx.onCommand,
  });
}

export async function resolveTreeTarget(spec: TreeTargetSpec, ctx: BuildContext): Promise<BuildTarget> {
  // Host-built trees compile on the host; a build root would be chosen here.
  const toolchain = hostToolchain;
  const tree = resolve(spec.sourceDir);
  await mustExist(join(tree, 'Makefile'), 'kernel tree', 'pass the top of a kernel source tree with -s');
  const config = await mustExist(spec.config ?? join(tree, '.config'), 'kernel config', 'pass it with -c');
  if (spec.fullBuild) {
    await runStep(ctx.emit, 'full build', () =>
      buildWholeTree(tree, spec.buildTargets ?? [], toolchain, ctx),
    );
  }
  const vmlinux = await mustExist(
    spec.vmlinux ?? join(tree, 'vmlinux'),
    'vmlinux',
    'build the tree (or pass --full-build), or pass -v',
  );
  const moduleSymvers = await mustExist(
    join(tree, 'Module.symvers'),
    'Module.symvers',
    'build the tree first',
  );
  const image = join(tree, 'arch/x86/boot/bzImage');
  const vermagic = await treeVermagic(tree);
  return {
    label: `kernel tree ${tree}`,
    tree,
    config,
    symbols: { format: 'elf', path: vmlinux },
    moduleSymvers,
    moduleBuildDir: tree,
    ...(vermagic ? { vermagic } : {}),
    ...((await exists(image)) ? { image } : {}),
    parents: 'linked',
    touched: 'recorded',
    utsDefines: [],
    toolchain,
  };
}
