/**
 * A build root: a minimal Debian system of the target's suite holding the exact compiler the target
 * kernel was built with, made by mmdebstrap (which fetches the suite's InRelease and checks it against
 * debian-archive-keyring, then every index and package by hash, as apt does).
 *
 * Cached once per suite and compiler version under <cache>/build-roots/<suite>-<gcc-N>-<version>/root.
 * Creation happens in a temporary directory beside it, renamed into place only once the compiler inside
 * was checked, all under a lock: an interrupted creation leaves at most a temporary directory, which the
 * next creator (holding the lock, so no one else can be using it) removes; two runs share one root.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { BuildError } from '../errors.js';
import { abortError } from '../source/abort.js';
import { cacheRoot } from '../source/cache-dir.js';
import { withLock } from '../source/lock.js';
import { buildRootCommand, isWithin } from './build-root-command.js';
import { type Toolchain, wrappedToolchain } from './toolchain.js';

export interface BuildRootSpec {
  /** Debian suite: trixie, forky, sid, bookworm. */
  suite: string;
  /** The compiler package, e.g. gcc-14. */
  compilerPackage: string;
  /** Its exact Debian version, e.g. 14.2.0-19 (pinned: a different one is refused by apt). */
  compilerVersion: string;
}

export interface BuildRootOptions {
  cacheDir?: string;
  mirror?: string;
  securityMirror?: string;
  /** Accept a Release file past its Valid-Until (Debian testing's registry copy may be). */
  allowExpiredRelease?: boolean;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface BuildRoot {
  /** The root file system. */
  root: string;
  spec: BuildRootSpec;
  /** `gcc-N --version`'s first line inside the root. */
  compilerText: string;
  /** False when this call created it. */
  cached: boolean;
}

// Bump when the package set or layout changes: a new key, a new root.
const ROOT_FORMAT = 1;

/** What kbuild needs to configure, prepare and compile a Debian kernel and build modules. */
export function buildRootPackages(spec: BuildRootSpec): string[] {
  return [
    `${spec.compilerPackage}=${spec.compilerVersion}`,
    // HOSTCC is plain gcc (fixdep, objtool); pahole's version is part of the kernel config (BTF).
    'gcc',
    'make',
    'libc6-dev',
    'bc',
    'bison',
    'flex',
    'libelf-dev',
    'libssl-dev',
    'kmod',
    'python3',
    'xz-utils',
    'cpio',
    'dwarves',
  ];
}

/** The suite's apt sources (the security suite for stable releases). */
export function buildRootSources(suite: string, options: BuildRootOptions = {}): string[] {
  const mirror = options.mirror ?? 'http://deb.debian.org/debian';
  const security = options.securityMirror ?? 'http://deb.debian.org/debian-security';
  const sources = [`deb ${mirror} ${suite} main`];
  if (!['sid', 'unstable', 'forky', 'testing'].includes(suite)) {
    sources.push(`deb ${mirror} ${suite}-updates main`, `deb ${security} ${suite}-security main`);
  }
  return sources;
}

function checkSpec(spec: BuildRootSpec): void {
  for (const [name, value] of Object.entries(spec)) {
    if (!/^[a-z0-9][a-z0-9.+~-]*$/.test(value)) {
      throw new BuildError(`unexpected build root ${name} "${value}"`, {
        hint: 'suite, compiler package and version are Debian names such as trixie, gcc-14, 14.2.0-19',
      });
    }
  }
}

export function buildRootDir(spec: BuildRootSpec, cacheDir = cacheRoot()): string {
  checkSpec(spec);
  return join(cacheDir, 'build-roots', `${spec.suite}-${spec.compilerPackage}-${spec.compilerVersion}`);
}

interface RootStamp {
  format: number;
  spec: BuildRootSpec;
  compilerText: string;
  createdAt: string;
  seconds: number;
}

async function readStamp(dir: string): Promise<RootStamp | undefined> {
  try {
    const stamp = JSON.parse(await readFile(join(dir, 'root.json'), 'utf8')) as RootStamp;
    if (stamp.format !== ROOT_FORMAT) return undefined;
    await access(join(dir, 'root', 'usr', 'bin', stamp.spec.compilerPackage));
    return stamp;
  } catch {
    return undefined;
  }
}

/** Mount points under `dir` (a half-made root may still have /proc or /dev mounted): never rm those. */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return info
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((point): point is string => point !== undefined && isWithin(point, dir));
}

async function removeTemp(dir: string): Promise<void> {
  const mounts = await mountsUnder(dir);
  if (mounts.length > 0) {
    throw new BuildError(`${dir} still has mounts (${mounts.join(', ')}); not removing it`, {
      hint: `unmount them (umount -R ${dir}), then delete ${dir}`,
    });
  }
  await rm(dir, { recursive: true, force: true });
}

/** First line of `gcc-N --version` inside the root: "gcc-14 (Debian 14.2.0-19) 14.2.0". */
async function compilerInRoot(root: string, compiler: string): Promise<string> {
  const result = await execa('chroot', [root, compiler, '--version'], { reject: false });
  return result.failed ? '' : (result.stdout.split('\n')[0]?.trim() ?? '');
}

/**
 * mmdebstrap's apt-get and dpkg outlive a killed mmdebstrap (and hold its output open), so it runs in its
 * own process group and an abort sends SIGTERM to the whole group — mmdebstrap then unmounts what it
 * mounted in the root — and SIGKILL 10 s later if anything is left.
 */
async function runInOwnGroup(file: string, args: string[], signal: AbortSignal | undefined) {
  const child = execa(file, args, { all: true, reject: false, detached: true });
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    killGroup('SIGTERM');
    timer = setTimeout(() => killGroup('SIGKILL'), 10_000);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  try {
    return await child;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (timer) clearTimeout(timer);
  }
}

async function createRoot(spec: BuildRootSpec, dir: string, options: BuildRootOptions): Promise<RootStamp> {
  const parent = join(dir, '..');
  const base = dir.slice(parent.length + 1);
  for (const entry of await readdir(parent)) {
    if (entry.startsWith(`${base}.tmp-`)) await removeTemp(join(parent, entry)); // a dead run's
  }
  const temp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(temp);
  const started = performance.now();
  try {
    const args = [
      '--variant=minbase',
      `--include=${buildRootPackages(spec).join(',')}`,
      ...(options.allowExpiredRelease ? ['--aptopt=Acquire::Check-Valid-Until "false"'] : []),
      spec.suite,
      join(temp, 'root'),
      ...buildRootSources(spec.suite, options),
    ];
    options.onProgress?.(
      `creating a ${spec.suite} build root with ${spec.compilerPackage} ${spec.compilerVersion}`,
    );
    const run = await runInOwnGroup('mmdebstrap', args, options.signal);
    await writeFile(join(temp, 'mmdebstrap.log'), `$ mmdebstrap ${args.join(' ')}\n${run.all ?? ''}\n`);
    if (options.signal?.aborted) throw abortError(options.signal);
    if (run.failed) {
      const apt = (run.all ?? '').split('\n').filter((l) => /^E: /.test(l));
      throw new BuildError(
        `creating the ${spec.suite} build root failed${apt.length ? `: ${apt.slice(0, 3).join(' | ')}` : ` (${run.shortMessage})`}`,
        {
          hint: `${spec.compilerPackage} ${spec.compilerVersion} must still be in ${spec.suite} (an older version needs a snapshot.debian.org mirror); mmdebstrap must be installed (apt-get install mmdebstrap)`,
        },
      );
    }
    const compilerText = await compilerInRoot(join(temp, 'root'), spec.compilerPackage);
    if (!compilerText.includes(`(Debian ${spec.compilerVersion})`)) {
      throw new BuildError(
        `the ${spec.suite} build root's ${spec.compilerPackage} says "${compilerText}", not ${spec.compilerVersion}`,
      );
    }
    const stamp: RootStamp = {
      format: ROOT_FORMAT,
      spec,
      compilerText,
      createdAt: new Date().toISOString(),
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
    await writeFile(join(temp, 'root.json'), `${JSON.stringify(stamp, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true }); // an outdated format's root, if any
    await rename(temp, dir);
    return stamp;
  } catch (error) {
    await removeTemp(temp).catch(() => undefined);
    throw error;
  }
}

/** The build root for `spec`, created once (under a lock) and then reused. */
export async function ensureBuildRoot(
  spec: BuildRootSpec,
  options: BuildRootOptions = {},
): Promise<BuildRoot> {
  const dir = buildRootDir(spec, options.cacheDir);
  const done = (stamp: RootStamp, cached: boolean): BuildRoot => ({
    root: join(dir, 'root'),
    spec,
    compilerText: stamp.compilerText,
    cached,
  });
  const ready = await readStamp(dir);
  if (ready) return done(ready, true);
  await mkdir(join(dir, '..'), { recursive: true });
  return withLock(
    `${dir}.lock`,
    async () => {
      const again = await readStamp(dir);
      if (again) return done(again, true);
      return done(await createRoot(spec, dir, options), false);
    },
    options.signal ? { signal: options.signal } : {},
  );
}

/** The toolchain that runs every make, compile and compiler probe in `root` with `binds` visible. */
export function buildRootToolchain(root: BuildRoot, binds: readonly string[]): Toolchain {
  const entry = { root: root.root, binds };
  return wrappedToolchain(
    `${root.spec.suite} build root (${root.spec.compilerPackage} ${root.spec.compilerVersion})`,
    (command) => buildRootCommand(entry, command),
  );
}
