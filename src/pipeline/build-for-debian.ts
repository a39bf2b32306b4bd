import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { prepareDebianSource } from '../distro/prepare-debian-source.js';
import { readElfFile } from '../elf/index.js';
import { PatchError, UnsupportedChangeError } from '../errors.js';
import { buildSingleObjects } from '../kbuild/build-single-objects.js';
import type { ObjectParent } from '../kbuild/object-parent.js';
import { moduleNameFromPath } from '../kbuild/object-parent.js';
import { modinfoValue } from '../module/modinfo.js';
import type { PackageProgress } from '../source/fetch-packages.js';
import type { TreeBuildOptions, TreeBuildResult } from './build-from-tree.js';
import { buildFromTree } from './build-from-tree.js';

export type DebianBuildOptions = Omit<TreeBuildOptions, 'sourceDir' | 'config' | 'vmlinux' | 'distro'> & {
  /** A Debian kernel release (6.1.0-56-amd64) or "latest". */
  release: string;
  onProgress?: (message: string) => void;
  onDownload?: (progress: PackageProgress) => void;
};

/** The vermagic every module of the target carries (the first .ko found under its modules dir). */
async function targetVermagic(modulesDir: string): Promise<string> {
  const dirs = [join(modulesDir, 'kernel')];
  for (let dir = dirs.shift(); dir; dir = dirs.shift()) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) dirs.push(join(dir, entry.name));
      else if (entry.name.endsWith('.ko')) {
        const vermagic = modinfoValue(await readElfFile(join(dir, entry.name)), 'vermagic');
        if (vermagic) return vermagic;
      }
    }
  }
  throw new UnsupportedChangeError(`no module with a vermagic under ${modulesDir}`);
}

/** The target's modules by the name the kernel knows them ('-' as '_'), from its modules.order. */
function readModuleFiles(modulesDir: string): Map<string, string> {
  const files = new Map<string, string>();
  const order = readFileSync(join(modulesDir, 'modules.order'), 'utf8');
  for (const line of order.split('\n')) {
    const path = line.trim();
    if (path !== '') files.set(moduleNameFromPath(path), join(modulesDir, path));
  }
  return files;
}

/**
 * kbuild compiles objects that go into a module with -DMODULE and -DKBUILD_MODNAME: that is how a
 * single object in a prepared (never fully built) tree tells where it belongs. A module's symbols
 * (for sympos) come from the target's own .ko.
 */
function parentFromCmdFile(
  tree: string,
  target: string,
  moduleFiles: () => Map<string, string>,
): ObjectParent {
  const cmd = readFileSync(join(tree, dirname(target), `.${basename(target)}.cmd`), 'utf8');
  if (!/\s-DMODULE\b/.test(cmd)) return { kind: 'vmlinux', name: 'vmlinux', via: [] };
  const name = /-DKBUILD_MODNAME=\W*([A-Za-z0-9_-]+)/.exec(cmd)?.[1]?.replaceAll('-', '_');
  const path = name ? moduleFiles().get(name) : undefined;
  if (!name || !path) {
    throw new UnsupportedChangeError(
      `${target} is built for a module${name ? ` (${name})` : ''} the target kernel does not ship`,
      { hint: "only modules listed in the target's modules.order can be patched" },
    );
  }
  return { kind: 'module', name, path, via: [] };
}

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
  const vermagic = await targetVermagic(target.modulesDir ?? '');
  let modules: Map<string, string> | undefined;
  const moduleFiles = () => {
    modules ??= readModuleFiles(target.modulesDir ?? '');
    return modules;
  };
  const result = await buildFromTree({
    ...rest,
    sourceDir: source.tree,
    config: join(source.tree, '.config'),
    distro: {
      kallsyms: target.symbols.path,
      moduleSymvers: target.moduleSymvers,
      // The headers package is made for M= builds: its Module.symvers gives modpost the CRCs.
      moduleBuildDir: target.buildDir,
      vermagic,
      buildTouchedObjects: async (touched) => {
        const headers = touched.filter((file) => !file.endsWith('.c'));
        if (headers.length > 0) {
          throw new PatchError(`the patch changes ${headers.join(', ')}, not only .c files`, {
            hint: 'finding every object a header reaches needs a full kernel build; not supported for distro kernels yet',
          });
        }
        await buildSingleObjects(
          source.tree,
          touched.map((file) => file.replace(/\.c$/, '.o')),
          {
            logFile: join(source.tree, '.kpatch-build-objects.log'),
            ...(options.jobs ? { jobs: options.jobs } : {}),
            ...(options.onCommand ? { onCommand: options.onCommand } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
          },
        );
      },
      parentOf: (object) => parentFromCmdFile(source.tree, object, moduleFiles),
      image: target.image,
    },
  });
  return { ...result, timings: { ...sourceTimings, ...result.timings } };
}
