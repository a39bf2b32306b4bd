import { createHash } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { BuildError } from '../errors.js';
import { runMake } from '../kbuild/run-make.js';
import { recoverKilledRun } from '../patch/restore-journal.js';
import { cacheRoot } from '../source/cache-dir.js';
import { extractDeb } from '../source/deb.js';
import { withLock } from '../source/lock.js';
import { unpackTarball } from '../source/unpack-tarball.js';
import { aptPackageUris } from './apt-uris.js';
import { loadDistroData } from './distro-data.js';
import { fetchDebianPackages } from './fetch-debian-packages.js';
import type { TargetKernel } from './target.js';

export interface TestKernelConfig {
  sourcePackage: string;
  sourceTarball: string;
  base: string;
  enable: string[];
  module: string[];
  targets: string[];
}

export interface PrepareTestKernelOptions {
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  jobs?: number;
  /** Extra config options to enable (=y), for tests that need more of the kernel. */
  extraEnable?: string[];
  /**
   * The top Makefile's EXTRAVERSION (e.g. `-300.fc39.x86_64`), so the kernel's release is a distro's
   * (`6.1.192-300.fc39.x86_64`). Part of the cache key only when set: the default build keeps its key.
   * Such a variant starts as a copy of the default build (same source, config and compiler), and make
   * rebuilds what the release reaches (utsrelease.h users, module vermagic, the links): about a tenth
   * of a full build.
   */
  extraversion?: string;
}

// Bump when the way the test kernel is built changes: it is part of the cache key.
const BUILDER_VERSION = 1;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Every input that changes the built kernel, hashed: the cache directory's name. */
export function testKernelKey(parts: {
  sourceSha256: string;
  config: TestKernelConfig;
  compiler: string;
  extraversion?: string;
}): string {
  const text = JSON.stringify({ v: BUILDER_VERSION, ...parts });
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Checks the options we asked for really ended up in .config (olddefconfig drops ones with unmet deps). */
export function missingConfigOptions(dotConfig: string, config: TestKernelConfig): string[] {
  const set = new Set(dotConfig.split('\n').filter((l) => l.startsWith('CONFIG_')));
  const missing = config.enable.filter((o) => !set.has(`CONFIG_${o}=y`));
  missing.push(...config.module.filter((o) => !set.has(`CONFIG_${o}=m`)));
  return missing;
}

async function configure(src: string, config: TestKernelConfig, logFile: string, signal?: AbortSignal) {
  const common = { dir: src, logFile, what: 'test kernel configuration', ...(signal ? { signal } : {}) };
  await runMake({ ...common, args: [config.base] });
  const args = [
    '--file',
    '.config',
    ...config.enable.flatMap((o) => ['-e', o]),
    ...config.module.flatMap((o) => ['-m', o]),
  ];
  await execa('./scripts/config', args, { cwd: src });
  await runMake({ ...common, args: ['olddefconfig'] });
  const missing = missingConfigOptions(await readFile(join(src, '.config'), 'utf8'), config);
  if (missing.length > 0) {
    throw new BuildError(`test kernel config lacks ${missing.map((o) => `CONFIG_${o}`).join(', ')}`, {
      hint: 'an option depends on something tinyconfig leaves out: add that to distro/test-kernel.json',
      logPath: logFile,
    });
  }
}

/** Sets the top Makefile's `EXTRAVERSION =` line, as distro kernel packages do. */
async function setExtraversion(makefile: string, extraversion: string): Promise<void> {
  const text = await readFile(makefile, 'utf8');
  if (!/^EXTRAVERSION =.*$/m.test(text)) {
    throw new BuildError(`${makefile} has no EXTRAVERSION line`, {
      hint: 'the test kernel source is not a kernel tree as expected',
    });
  }
  const updated = text.replace(/^EXTRAVERSION =.*$/m, `EXTRAVERSION = ${extraversion}`);
  // Rewritten only when it differs: a newer Makefile would make kbuild redo work on a resumed build.
  if (updated !== text) await writeFile(makefile, updated);
}

/**
 * The kernel's own kbuild records relative paths, but tools/ (objtool) records absolute ones: left as
 * they are, make sees objtool's commands changed, rebuilds objtool, and then every object (objtool is
 * their prerequisite). The records are rewritten to the copy's path.
 */
export async function relocateToolRecords(tree: string, from: string, to: string): Promise<void> {
  const tools = join(tree, 'tools');
  const entries = await readdir(tools, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile() || !/^\..*\.cmd$/.test(entry.name)) continue;
    const file = join(entry.parentPath, entry.name);
    const text = await readFile(file, 'utf8');
    if (text.includes(from)) await writeFile(file, text.replaceAll(from, to));
  }
}

// kpatch-build -s applies patches to a tree under this lock (src/pipeline/build-livepatch.ts).
const TREE_LOCK = '.kpatch-build.lock';

/**
 * A built tree copied with its timestamps (so make sees it up to date), under the tree's lock so that no
 * kpatch-build -s has its patches applied meanwhile (a run killed with them applied is restored first),
 * into a temporary name renamed into place: an interrupted copy is never taken for a tree.
 */
async function copyBuiltTree(from: string, to: string, signal?: AbortSignal): Promise<void> {
  const temp = `${to}.copy`;
  await rm(temp, { recursive: true, force: true });
  try {
    await withLock(
      join(from, TREE_LOCK),
      async () => {
        recoverKilledRun(from);
        await execa('cp', ['-a', '--reflink=auto', from, temp], signal ? { cancelSignal: signal } : {});
      },
      signal ? { signal } : {},
    );
    await rm(join(temp, TREE_LOCK), { force: true }); // the copy of our own lock file
    await relocateToolRecords(temp, from, to);
    await rename(temp, to);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The small test kernel: Debian's linux-source with a tiny livepatch-capable config, built once per set
 * of inputs (source package, config, compiler) and cached. An interrupted build resumes where make stopped.
 */
export async function prepareTestKernel(options: PrepareTestKernelOptions = {}): Promise<TargetKernel> {
  const base = loadDistroData<TestKernelConfig>('test-kernel');
  const config = { ...base, enable: [...base.enable, ...(options.extraEnable ?? [])] };
  const cache = options.cacheDir ?? cacheRoot();
  const progress = options.onProgress ?? (() => {});
  const signalOpt = options.signal ? { signal: options.signal } : {};
  // apt's metadata names the source package's SHA256, which is all the cache key needs: a built kernel
  // is found without downloading or re-hashing the 139 MB package.
  const [uri] = await aptPackageUris([config.sourcePackage], signalOpt);
  if (!uri?.sha256) throw new BuildError(`apt gives no SHA256 for ${config.sourcePackage}`);
  const compiler = (await execa('gcc', ['--version'])).stdout.split('\n')[0] ?? 'gcc';
  const extraversion = options.extraversion;
  if (extraversion !== undefined && !/^-[A-Za-z0-9._+~-]+$/.test(extraversion)) {
    throw new BuildError(`test kernel: invalid extraversion '${extraversion}'`, {
      hint: "it starts with '-' and holds only letters, digits and . _ + ~ -, e.g. -300.fc39.x86_64",
    });
  }
  const key = testKernelKey({
    sourceSha256: uri.sha256,
    config,
    compiler,
    ...(extraversion ? { extraversion } : {}),
  });
  const dir = join(cache, 'targets', 'test', key);
  const manifestFile = join(dir, 'target.json');
  const readManifest = async () =>
    (await exists(manifestFile))
      ? (JSON.parse(await readFile(manifestFile, 'utf8')) as TargetKernel)
      : undefined;
  const cached = await readManifest();
  if (cached && (await exists(cached.image))) return cached;
  await mkdir(dir, { recursive: true });
  return withLock(join(dir, '.lock'), async () => {
    const again = await readManifest();
    if (again && (await exists(again.image))) return again;
    const src = join(dir, 'src');
    const logFile = join(dir, 'build.log');
    const [deb] = await fetchDebianPackages([config.sourcePackage], { cacheDir: cache, ...signalOpt });
    if (!deb) throw new BuildError(`${config.sourcePackage} was not downloaded`);
    if (extraversion && !(await exists(join(src, 'Makefile')))) {
      // The default build of the same inputs, copied: only what the release reaches is built again.
      const { extraversion: _, ...baseOptions } = options;
      const base = await prepareTestKernel(baseOptions);
      progress(`copying the test kernel build for release suffix ${extraversion}`);
      await copyBuiltTree(base.sourceDir ?? base.buildDir ?? '', src, options.signal);
    }
    if (!(await exists(join(src, 'Makefile')))) {
      progress(`unpacking ${config.sourcePackage} ${deb.version}`);
      const staging = join(dir, 'deb');
      await rm(staging, { recursive: true, force: true });
      await extractDeb(deb.path, staging, { filter: [config.sourceTarball], replace: true });
      await unpackTarball(join(staging, config.sourceTarball), src, {
        strip: 1,
        replace: true,
        ...signalOpt,
      });
      await rm(staging, { recursive: true, force: true });
    }
    if (extraversion) await setExtraversion(join(src, 'Makefile'), extraversion);
    if (!(await exists(join(src, '.config')))) {
      progress('configuring the test kernel');
      await configure(src, config, logFile, options.signal);
    }
    progress('building the test kernel (about 3 minutes on 2 cores)');
    const jobs = String(options.jobs ?? availableParallelism());
    await runMake({
      dir: src,
      args: [`-j${jobs}`, ...config.targets],
      logFile,
      what: 'test kernel',
      ...signalOpt,
    });
    const release = (await execa('make', ['-s', '-C', src, 'kernelrelease'])).stdout.trim();
    const target: TargetKernel = {
      id: `test:${release}-${key}`,
      kind: 'test',
      release,
      packageVersion: deb.version,
      arch: 'x86_64',
      image: join(src, 'arch/x86/boot/bzImage'),
      config: join(src, '.config'),
      symbols: {
        format: 'system-map',
        path: join(src, 'System.map'),
        origin: 'System.map of the local build',
      },
      moduleSymvers: join(src, 'Module.symvers'),
      buildDir: src,
      vmlinux: join(src, 'vmlinux'),
      sourceDir: src,
    };
    await writeFile(manifestFile, `${JSON.stringify(target, null, 2)}\n`);
    return target;
  });
}
