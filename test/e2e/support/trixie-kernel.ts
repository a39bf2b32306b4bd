/**
 * Debian 13's kernel for e2e tests, until the tool's own Debian archive client lands (issue 13, branch
 * `archive`): the packages are resolved with the host's apt run against a private sources list and lists
 * directory (apt fetches trixie-security's InRelease and checks it with debian-archive-keyring, then the
 * Packages index by the hash InRelease lists), so each URI comes with the SHA256 from a verified index;
 * fetchDebPackages downloads into the shared <cache>/debs and checks that SHA256 and the size.
 *
 * The source is prepared inside the trixie build root (the kernel's own gcc-14): .config and
 * .kernelvariables as for bookworm, make olddefconfig prepare modules_prepare, the headers' Module.symvers
 * copied in (the livepatch module is built in this tree: the headers package's Makefile includes an
 * absolute /usr/src path). kallsyms comes from booting the image once. All of it is cached under
 * <cache>/e2e/trixie/<release>, behind a lock and a stamp, and shared by every test.
 */
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import {
  configCompiler,
  kernelVariables,
  localBuildConfig,
} from '../../../src/distro/prepare-debian-source.js';
import { type BuildRoot, buildRootToolchain, ensureBuildRoot } from '../../../src/kbuild/build-root.js';
import type { Toolchain } from '../../../src/kbuild/build-root-command.js';
import { chooseToolchain, type ToolchainChoice } from '../../../src/kbuild/choose-toolchain.js';
import { runMake } from '../../../src/kbuild/run-make.js';
import { parseAptUris } from '../../../src/source/apt-uris.js';
import { cacheRoot } from '../../../src/source/cache-dir.js';
import { fetchDebPackages } from '../../../src/source/fetch-packages.js';
import { withLock } from '../../../src/source/lock.js';
import { dumpKallsyms } from '../../../src/verify/dump-kallsyms.js';
import { dumpSealedFunctions } from '../../../src/verify/dump-sealed-functions.js';

export const TRIXIE_RELEASE = '6.12.118+deb13-amd64';
const PACKAGE_VERSION = '6.12.118-1';
const SECURITY = 'http://deb.debian.org/debian-security';
const FORMAT = 1;

export interface TrixieKernel {
  release: string;
  dir: string;
  /** Prepared source tree (make prepare modules_prepare, in the build root). */
  tree: string;
  config: string;
  image: string;
  moduleSymvers: string;
  kallsyms: string;
  root: BuildRoot;
  choice: ToolchainChoice;
  /** Runs commands in the build root with the cache and `extra` visible. */
  toolchain: (extra: readonly string[]) => Toolchain;
  /** Seconds per preparation step of the run that prepared it (cached runs keep the first). */
  timings: Record<string, number>;
}

const PACKAGES = [
  `linux-image-${TRIXIE_RELEASE}-unsigned`,
  `linux-headers-${TRIXIE_RELEASE}`,
  `linux-source-6.12=${PACKAGE_VERSION}`,
];

/** URIs with SHA256 from trixie-security's verified Packages index (host apt, private state). */
async function resolveTrixieUris(dir: string, packages: readonly string[]) {
  const apt = join(dir, 'apt');
  await mkdir(join(apt, 'lists', 'partial'), { recursive: true });
  await mkdir(join(apt, 'parts'), { recursive: true });
  const sources = join(apt, 'sources.list');
  await writeFile(
    sources,
    `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${SECURITY} trixie-security main\n`,
  );
  const options = [
    `Dir::Etc::SourceList=${sources}`,
    `Dir::Etc::SourceParts=${join(apt, 'parts')}`,
    `Dir::State::Lists=${join(apt, 'lists')}`,
    'Dir::Cache::pkgcache=',
    'Dir::Cache::srcpkgcache=',
    'Acquire::Languages=none',
    'APT::Architecture=amd64',
  ].flatMap((o) => ['-o', o]);
  await execa('apt-get', [...options, 'update', '-q'], { env: { LC_ALL: 'C' } });
  const { stdout } = await execa('apt-get', [...options, 'download', '--print-uris', ...packages], {
    env: { LC_ALL: 'C' },
  });
  return parseAptUris(stdout);
}

const sec = (start: number) => Math.round((performance.now() - start) / 100) / 10;

async function prepare(
  dir: string,
  cache: string,
): Promise<Omit<TrixieKernel, 'toolchain' | 'root' | 'choice'>> {
  const timings: Record<string, number> = {};
  let start = performance.now();
  const uris = await resolveTrixieUris(dir, PACKAGES);
  const debs = await fetchDebPackages(PACKAGES, { cacheDir: cache, resolve: async () => uris });
  timings.fetch = sec(start);
  start = performance.now();
  const extract = join(dir, 'extract');
  await rm(extract, { recursive: true, force: true });
  for (const deb of debs) await execa('dpkg-deb', ['-x', deb.path, extract]);
  const tree = join(dir, 'source');
  await rm(tree, { recursive: true, force: true });
  await mkdir(tree, { recursive: true });
  await execa('tar', [
    '-xJf',
    join(extract, 'usr/src/linux-source-6.12.tar.xz'),
    '-C',
    tree,
    '--strip-components=1',
  ]);
  await rm(join(extract, 'usr/src/linux-source-6.12.tar.xz'));
  timings.unpack = sec(start);
  const image = join(extract, `boot/vmlinuz-${TRIXIE_RELEASE}`);
  const config = join(extract, `boot/config-${TRIXIE_RELEASE}`);
  const moduleSymvers = join(extract, `usr/src/linux-headers-${TRIXIE_RELEASE}/Module.symvers`);
  return {
    release: TRIXIE_RELEASE,
    dir,
    tree,
    config,
    image,
    moduleSymvers,
    kallsyms: join(dir, 'kallsyms'),
    timings,
  };
}

/** Debian 13's kernel, its prepared source and build root; created once, then read from the cache. */
export async function prepareTrixieKernel(): Promise<TrixieKernel> {
  const cache = cacheRoot();
  const dir = join(cache, 'e2e', 'trixie', TRIXIE_RELEASE);
  const stampFile = join(dir, 'ready.json');
  await mkdir(dir, { recursive: true });
  const config = join(dir, 'extract', `boot/config-${TRIXIE_RELEASE}`);
  const finish = async (kernel: Omit<TrixieKernel, 'toolchain' | 'root' | 'choice'>) => {
    const choice = await chooseToolchain({ config: kernel.config, suite: 'trixie' });
    if (choice.kind !== 'build-root') throw new Error(`expected a build root: ${choice.reason}`);
    const start = performance.now();
    const root = await ensureBuildRoot(choice.spec, { cacheDir: cache });
    if (!root.cached) kernel.timings.buildRoot = sec(start);
    const toolchain = (extra: readonly string[]) => buildRootToolchain(root, [cache, ...extra]);
    return { ...kernel, root, choice, toolchain };
  };
  const readStamp = async () => {
    const stamp = JSON.parse(await readFile(stampFile, 'utf8').catch(() => '{}'));
    return stamp.format === FORMAT
      ? (stamp.kernel as Omit<TrixieKernel, 'toolchain' | 'root' | 'choice'>)
      : undefined;
  };
  const ready = await readStamp();
  if (ready) return finish(ready);
  return withLock(join(dir, '.lock'), async () => {
    const again = await readStamp();
    if (again) return finish(again);
    const kernel = await prepare(dir, cache);
    const done = await finish(kernel);
    const tc = done.toolchain([]);
    const make = (args: string[]) =>
      runMake({
        dir: kernel.tree,
        args,
        logFile: join(dir, 'prepare.log'),
        what: 'trixie source',
        toolchain: tc,
      });
    let start = performance.now();
    const original = await readFile(config, 'utf8');
    await writeFile(join(kernel.tree, '.config'), localBuildConfig(original, TRIXIE_RELEASE));
    await writeFile(
      join(kernel.tree, '.kernelvariables'),
      kernelVariables({
        release: TRIXIE_RELEASE,
        packageVersion: PACKAGE_VERSION,
        cc: configCompiler(original),
      }),
    );
    await make(['olddefconfig']);
    await make([`-j${Math.min(2, availableParallelism())}`, 'prepare', 'modules_prepare']);
    await copyFile(kernel.moduleSymvers, join(kernel.tree, 'Module.symvers'));
    kernel.timings.prepare = sec(start);
    start = performance.now();
    await writeFile(kernel.kallsyms, await dumpKallsyms({ kernel: kernel.image }));
    kernel.timings.kallsyms = sec(start);
    await writeFile(stampFile, `${JSON.stringify({ format: FORMAT, kernel }, null, 2)}\n`);
    return { ...done, timings: kernel.timings };
  });
}

/** The vmlinux functions the image seals at boot (one boot with debug-alternative, cached). */
export async function trixieSealedFunctions(kernel: TrixieKernel): Promise<Set<string>> {
  const file = join(kernel.dir, 'sealed.json');
  const read = async () => {
    const names = JSON.parse(await readFile(file, 'utf8').catch(() => 'null')) as string[] | null;
    return names ? new Set(names) : undefined;
  };
  const cached = await read();
  if (cached) return cached;
  return withLock(join(kernel.dir, '.sealed.lock'), async () => {
    const again = await read();
    if (again) return again;
    const sealed = await dumpSealedFunctions({ kernel: kernel.image });
    await writeFile(file, JSON.stringify(sealed.map((f) => f.name)));
    return new Set(sealed.map((f) => f.name));
  });
}
