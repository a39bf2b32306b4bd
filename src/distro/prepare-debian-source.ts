/**
 * The full source of a Debian kernel release, prepared so single objects compile exactly as Debian's build
 * compiled them: same .config, same compiler, same KERNELRELEASE (vermagic / UTS_RELEASE), objtool built.
 *
 * Steps (each skipped when its inputs have not changed; the stamp file records them):
 *  1. prepareDebianTarget: the binary target (image, config, headers) — its package version pins the source.
 *  2. fetch linux-source-<series>; it must be the image package's version (apt only offers the newest).
 *  3. unpack usr/src/linux-source-<series>.tar.xz into <cache>/targets/debian/<release>/source/.
 *  4. .config = the target's config + the few settings Debian's build set but the image's copy of the
 *     config lacks (BUILD_SALT), signing keys blanked; .kernelvariables = what Debian's build wrote there
 *     (override KERNELRELEASE = 6.1.0-56-amd64: the ABI name, not the upstream 6.1.192; CC = gcc-12).
 *  5. make olddefconfig, make prepare (generated headers, scripts, objtool, resolve_btfids).
 * A warm call reads the stamp and compares it with the inputs: no network, no lock, no make.
 */
import { createHash } from 'node:crypto';
import { access, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { BuildError, DistroError } from '../errors.js';
import { hostToolchain, type Toolchain } from '../kbuild/toolchain.js';
import { cacheRoot } from '../source/cache-dir.js';
import { checkTreeManifest, damagedMessage, writeTreeManifest } from '../source/cache-manifest.js';
import { extractDeb } from '../source/deb.js';
import { withLock } from '../source/lock.js';
import { unpackTarball } from '../source/unpack-tarball.js';
import { debianLayout } from './debian-layout.js';
import { fetchDebianPackages } from './fetch-debian-packages.js';
import { type PrepareOptions, prepareDebianTarget } from './prepare-debian-target.js';
import type { TargetKernel } from './target.js';

export interface PrepareSourceOptions extends PrepareOptions {
  /** make -j; defaults to the number of CPUs. */
  jobs?: number;
  /** Per-phase wall times in ms, for benchmarks. */
  onPhase?: (phase: SourcePhase, ms: number) => void;
  /** The target's make and compiler (a build root's, when the host's compiler is not the kernel's). */
  toolchain?: Toolchain;
  /**
   * The livepatch module is built in this tree, not the headers package (a build root's kernels: the tree's
   * tools are built by the root's compiler): also `make modules_prepare` and the headers' Module.symvers.
   */
  modulesInTree?: boolean;
}

export type SourcePhase = 'target' | 'check' | 'fetch' | 'unpack' | 'configure' | 'olddefconfig' | 'prepare';

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

// Bump when the way the tree is prepared changes: it is part of the stamp.
const SOURCE_FORMAT = 1;

interface SourceStamp {
  format: number;
  release: string;
  sourcePackage: string;
  packageVersion: string;
  sourceSha256: string;
  /** Set once configured and prepared; absent when only the unpack finished. */
  key?: string;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The source package must be the very build the target's image came from. */
export function checkSourceVersion(
  target: Pick<TargetKernel, 'release' | 'packageVersion'>,
  source: { package: string; version: string },
): void {
  if (source.version === target.packageVersion) return;
  throw new DistroError(
    `${source.package} ${source.version} does not match ${target.release} (built from ${target.packageVersion})`,
    {
      hint:
        `the Debian mirror only offers the newest ${source.package}; objects compiled from it would not ` +
        `match ${target.release}. Use --target debian:latest, or run apt-get update if the mirror lists are stale`,
    },
  );
}

/** KERNELRELEASE set in a .kernelvariables file ("override KERNELRELEASE = 6.1.0-56-amd64"), if any. */
export function kernelReleaseOf(kernelVariables: string): string | undefined {
  for (const line of kernelVariables.split('\n')) {
    const match = /^\s*(?:override\s+)?KERNELRELEASE\s*:?=\s*(\S+)\s*$/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

export interface KernelVariablesInput {
  release: string;
  packageVersion: string;
  /** The compiler Debian named, e.g. "gcc-12" (CONFIG_CC_VERSION_TEXT's first word). */
  cc: string;
}

/**
 * The .kernelvariables Debian's build writes into its tree (debian/rules.real), which Debian's top-level
 * Makefile includes: KERNELRELEASE is the ABI name ("6.1.0-56-amd64"), not KERNELVERSION plus
 * LOCALVERSION (which would give "6.1.192…"), so it has to be overridden; the DISTRIBUTION_* variables
 * make include/generated/package.h say " Debian 6.1.192-2" as in the shipped kernel's banner.
 */
export function kernelVariables(input: KernelVariablesInput): string {
  for (const [name, value] of Object.entries(input)) {
    if (!/^[A-Za-z0-9.+~_-]+$/.test(value)) {
      throw new DistroError(`unexpected ${name} "${value}" for .kernelvariables`);
    }
  }
  return [
    'override ARCH = x86',
    `override KERNELRELEASE = ${input.release}`,
    `CC = ${input.cc}`,
    'DISTRIBUTION_OFFICIAL_BUILD = 1',
    'DISTRIBUTOR = Debian',
    `DISTRIBUTION_VERSION = ${input.packageVersion}`,
    '',
  ].join('\n');
}

/** The compiler command a config was made with: "gcc-12" from CONFIG_CC_VERSION_TEXT="gcc-12 (Debian …". */
export function configCompiler(config: string): string {
  const match = /^CONFIG_CC_VERSION_TEXT="([^\s"]+)/m.exec(config);
  return match?.[1] ?? 'gcc';
}

function setOption(config: string, name: string, value: string): string {
  const line = `CONFIG_${name}=${value}`;
  const pattern = new RegExp(`^(?:CONFIG_${name}=.*|# CONFIG_${name} is not set)$`, 'm');
  return pattern.test(config) ? config.replace(pattern, line) : `${config.replace(/\n?$/, '\n')}${line}\n`;
}

/**
 * The target's config adjusted for a local build. Debian's own build .config (the headers package's copy)
 * also has BUILD_SALT = the release (it seeds the build-id notes), which the image's copy lacks; the
 * signing keys point at Debian's private files, so they are blanked and MODULE_SIG_KEY names kbuild's
 * default local key (only generated if certs/ is ever built, which single objects never need).
 */
export function localBuildConfig(config: string, release: string): string {
  let text = config;
  text = setOption(text, 'BUILD_SALT', `"${release}"`);
  text = setOption(text, 'SYSTEM_TRUSTED_KEYS', '""');
  text = setOption(text, 'SYSTEM_REVOCATION_KEYS', '""');
  text = setOption(text, 'MODULE_SIG_KEY', '"certs/signing_key.pem"');
  return text;
}

/** What a prepared tree depends on; a different key means configure + prepare again. */
export function sourcePrepareKey(parts: {
  packageVersion: string;
  sourceSha256: string;
  config: string;
  kernelVariables: string;
  compiler: string;
  modulesInTree?: boolean;
}): string {
  return sha256(JSON.stringify({ v: SOURCE_FORMAT, ...parts })).slice(0, 16);
}

async function readStamp(file: string): Promise<SourceStamp | undefined> {
  try {
    const stamp = JSON.parse(await readFile(file, 'utf8')) as SourceStamp;
    return stamp.format === SOURCE_FORMAT ? stamp : undefined;
  } catch {
    return undefined;
  }
}

async function compilerVersion(cc: string, toolchain: Toolchain): Promise<string> {
  const run = toolchain.command({ file: cc, args: ['--version'] });
  const result = await execa(run.file, run.args, { reject: false });
  if (result.failed) {
    throw new BuildError(`${cc} is not installed; Debian built this kernel with it`, {
      hint: `install ${cc} (apt-get install ${cc}): objects must be compiled by the same compiler as the target`,
    });
  }
  return result.stdout.split('\n')[0] ?? cc;
}

/** Everything but the unpacked source that the prepared tree is made of. */
async function treeInputs(target: TargetKernel, toolchain: Toolchain) {
  const original = await readFile(target.config, 'utf8');
  const config = localBuildConfig(original, target.release);
  const cc = configCompiler(original);
  const vars = kernelVariables({ release: target.release, packageVersion: target.packageVersion, cc });
  return { config, vars, compiler: await compilerVersion(cc, toolchain) };
}

/** Checks the prepared tree really says what the target says. */
async function checkPrepared(tree: string, release: string, logFile: string): Promise<void> {
  const uts = await readFile(join(tree, 'include/generated/utsrelease.h'), 'utf8').catch(() => '');
  if (!uts.includes(`"${release}"`)) {
    throw new BuildError(
      `the prepared source's utsrelease.h says ${uts.trim() || 'nothing'}, not ${release}`,
      {
        hint: 'the tree was not prepared with the .kernelvariables override; delete it to prepare it again',
        logPath: logFile,
      },
    );
  }
}

/** The unpacked tree still has every file of its manifest; if not, says so (it is unpacked again). */
async function isIntact(tree: string, manifest: string, progress: (message: string) => void) {
  const check = await checkTreeManifest(tree, manifest);
  if (check.state !== 'damaged') return true;
  progress(damagedMessage(`${tree}`, check.problems, 're-fetching and re-preparing it'));
  return false;
}

/**
 * A tree prepared before manifests existed gets one on first use, under the lock: its files older than
 * .kernelvariables (written after unpacking, before any make) are the archive's. Damage from before
 * this first use cannot be told; damage after it can.
 */
async function adoptUnlistedTree(tree: string, manifest: string, lock: string, signalOpt: object) {
  if (await exists(manifest)) return;
  await withLock(
    lock,
    async () => {
      if ((await checkTreeManifest(tree, manifest)).state !== 'unknown') return;
      const configured = await stat(join(tree, '.kernelvariables')).catch(() => undefined);
      if (configured) await writeTreeManifest(tree, manifest, configured.mtimeMs);
    },
    signalOpt,
  );
}

async function isReady(tree: string, release: string, modulesInTree: boolean): Promise<boolean> {
  const uts = await readFile(join(tree, 'include/generated/utsrelease.h'), 'utf8').catch(() => '');
  if (modulesInTree && !(await exists(join(tree, 'scripts/module.lds')))) return false;
  return uts.includes(`"${release}"`) && (await exists(join(tree, 'tools/objtool/objtool')));
}

/**
 * Prepares the source of a Debian release once per set of inputs and returns the tree. Safe to call
 * from several processes at once (they wait on a lock); interrupted preparation resumes.
 */
export async function prepareDebianSource(
  releaseSpec: string,
  options: PrepareSourceOptions = {},
): Promise<PreparedDebianSource> {
  const phase = options.onPhase ?? (() => {});
  const timed = async <T>(name: SourcePhase, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      phase(name, performance.now() - start);
    }
  };
  const cache = options.cacheDir ?? cacheRoot();
  const progress = options.onProgress ?? (() => {});
  const signalOpt = options.signal ? { signal: options.signal } : {};
  const target = await timed('target', () =>
    prepareDebianTarget(releaseSpec, {
      cacheDir: cache,
      ...signalOpt,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.onDownload ? { onDownload: options.onDownload } : {}),
    }),
  );
  const layout = debianLayout(target.release);
  const dir = join(cache, 'targets', 'debian', target.release);
  const tree = join(dir, 'source');
  const stampFile = join(dir, 'source.json');
  const manifestFile = join(dir, 'source.manifest');
  const logFile = join(dir, 'source-build.log');
  const result = (cached: boolean): PreparedDebianSource => ({
    tree,
    release: target.release,
    packageVersion: target.packageVersion,
    config: join(tree, '.config'),
    target,
    cached,
  });

  const toolchain = options.toolchain ?? hostToolchain;
  const modulesInTree = options.modulesInTree === true;
  const inputs = await timed('check', () => treeInputs(target, toolchain));
  const keyFor = (stamp: SourceStamp) =>
    sourcePrepareKey({
      packageVersion: stamp.packageVersion,
      sourceSha256: stamp.sourceSha256,
      config: inputs.config,
      kernelVariables: inputs.vars,
      compiler: inputs.compiler,
      ...(modulesInTree ? { modulesInTree } : {}), // absent: bookworm's cached trees keep their key
    });
  const isWarm = async (stamp: SourceStamp | undefined) =>
    stamp !== undefined &&
    stamp.packageVersion === target.packageVersion &&
    stamp.key === keyFor(stamp) &&
    (await isReady(tree, target.release, modulesInTree)) &&
    (await checkTreeManifest(tree, manifestFile)).state !== 'damaged';
  if (await isWarm(await readStamp(stampFile))) {
    await adoptUnlistedTree(tree, manifestFile, join(dir, '.source.lock'), signalOpt);
    return result(true);
  }

  await mkdir(dir, { recursive: true });
  return withLock(
    join(dir, '.source.lock'),
    async () => {
      let stamp = await readStamp(stampFile);
      if (await isWarm(stamp)) return result(true);
      const damaged = !(await isIntact(tree, manifestFile, progress)); // says so, once
      if (
        damaged ||
        stamp?.packageVersion !== target.packageVersion ||
        !(await exists(join(tree, 'Makefile')))
      ) {
        progress(`downloading ${layout.sourcePackage}`);
        const [deb] = await timed('fetch', () =>
          fetchDebianPackages([`${layout.sourcePackage}=${target.packageVersion}`], {
            cacheDir: cache,
            ...signalOpt,
            ...(options.onDownload ? { onProgress: options.onDownload } : {}),
          }),
        );
        if (!deb) throw new DistroError(`${layout.sourcePackage} was not downloaded`);
        checkSourceVersion(target, deb);
        progress(`unpacking ${layout.sourcePackage} ${deb.version}`);
        await rm(stampFile, { force: true });
        await rm(manifestFile, { force: true });
        await timed('unpack', async () => {
          const staging = join(dir, 'source-deb');
          await rm(staging, { recursive: true, force: true });
          await extractDeb(deb.path, staging, {
            filter: [layout.paths.sourceTarball],
            replace: true,
            ...signalOpt,
          });
          await unpackTarball(join(staging, layout.paths.sourceTarball), tree, {
            strip: 1,
            replace: true,
            ...signalOpt,
          });
          await rm(staging, { recursive: true, force: true });
          await writeTreeManifest(tree, manifestFile);
        });
        stamp = {
          format: SOURCE_FORMAT,
          release: target.release,
          sourcePackage: layout.sourcePackage,
          packageVersion: deb.version,
          sourceSha256: deb.sha256,
        };
        await writeFile(stampFile, `${JSON.stringify(stamp, null, 2)}\n`);
      }
      if (!stamp) throw new DistroError(`${stampFile} is missing`); // unreachable: set above
      const make = (args: string[]) =>
        toolchain.make({
          dir: tree,
          args,
          logFile,
          what: `${target.release} source`,
          ...signalOpt,
        });
      progress(`configuring ${target.release}`);
      await timed('configure', async () => {
        await writeFile(join(tree, '.kernelvariables'), inputs.vars);
        await writeFile(join(tree, '.config'), inputs.config);
      });
      await timed('olddefconfig', () => make(['olddefconfig']));
      progress(`make prepare for ${target.release}`);
      const jobs = String(options.jobs ?? availableParallelism());
      await timed('prepare', () =>
        make([`-j${jobs}`, 'prepare', ...(modulesInTree ? ['modules_prepare'] : [])]),
      );
      // modpost reads the tree's Module.symvers for the CRCs of what the livepatch module calls.
      if (modulesInTree) await copyFile(target.moduleSymvers, join(tree, 'Module.symvers'));
      await checkPrepared(tree, target.release, logFile);
      const done: SourceStamp = { ...stamp, key: keyFor(stamp) };
      await writeFile(stampFile, `${JSON.stringify(done, null, 2)}\n`);
      return result(false);
    },
    { ...signalOpt },
  );
}
