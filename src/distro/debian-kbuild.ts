/**
 * Debian's kbuild recipe: how an unpacked linux-source tree compiles single objects exactly as Debian's
 * build compiled them — same .config, same compiler, same KERNELRELEASE (vermagic / UTS_RELEASE),
 * objtool built. The steps are prepareForKbuild's; the Debian facts are here and in distro/debian.json
 * ("kbuild": the make targets, the config settings of a local build).
 *   .config           the target's config + the settings Debian's build set but the image's copy lacks
 *                     (BUILD_SALT), signing keys blanked
 *   .kernelvariables  what Debian's build wrote there (override KERNELRELEASE = 6.1.0-56-amd64: the ABI
 *                     name, not the upstream 6.1.192; CC = gcc-12)
 *   make              olddefconfig, prepare (+ modules_prepare and the headers' Module.symvers when the
 *                     livepatch module is built in the tree)
 *   stamp             `key` in source.json, beside what was unpacked (debian-source-tree.ts)
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { BuildError, DistroError } from '../errors.js';
import type { Toolchain } from '../kbuild/toolchain.js';
import { debianData } from './debian-layout.js';
import {
  debianSourcePaths,
  readSourceStamp,
  SOURCE_FORMAT,
  type SourceStamp,
  writeSourceStamp,
} from './debian-source-tree.js';
import type { KbuildHow, PreparedDistroSource } from './distro-adapter.js';
import { expandTemplate } from './distro-data.js';
import type { KbuildRecipe, KbuildStamp } from './prepare-for-kbuild.js';

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
 * The target's config adjusted for a local build (distro/debian.json's kbuild.localConfig). Debian's own
 * build .config (the headers package's copy) also has BUILD_SALT = the release (it seeds the build-id
 * notes), which the image's copy lacks; the signing keys point at Debian's private files, so they are
 * blanked and MODULE_SIG_KEY names kbuild's default local key (only generated if certs/ is ever built,
 * which single objects never need).
 */
export function localBuildConfig(
  config: string,
  release: string,
  settings: Readonly<Record<string, string>> = debianData().kbuild.localConfig,
): string {
  let text = config;
  for (const [name, value] of Object.entries(settings)) {
    text = setOption(text, name, expandTemplate(value, { release }));
  }
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
  const text = JSON.stringify({ v: SOURCE_FORMAT, ...parts });
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The first line of `cc --version` where the target compiles; a missing compiler is said so. */
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

/** The key kept in source.json beside what was unpacked; cleared and recorded in place. */
function sourceStampKey(file: string, stamp: SourceStamp, key: string): KbuildStamp {
  const { key: _old, ...unpacked } = stamp;
  return {
    isCurrent: async () => (await readSourceStamp(file))?.key === key,
    clear: () => writeSourceStamp(file, unpacked),
    record: () => writeSourceStamp(file, { ...unpacked, key }),
  };
}

export async function debianKbuildRecipe(
  source: PreparedDistroSource,
  how: KbuildHow,
): Promise<KbuildRecipe> {
  const paths = debianSourcePaths(dirname(source.tree));
  const stamp = await readSourceStamp(paths.stamp);
  if (!stamp) throw new DistroError(`${paths.stamp} is missing`, { hint: 'prepare the source first' });
  const original = await readFile(source.config, 'utf8');
  const config = localBuildConfig(original, source.release);
  const cc = configCompiler(original);
  const vars = kernelVariables({ release: source.release, packageVersion: source.packageVersion, cc });
  const key = sourcePrepareKey({
    packageVersion: stamp.packageVersion,
    sourceSha256: stamp.sourceSha256,
    config,
    kernelVariables: vars,
    compiler: await compilerVersion(cc, how.toolchain),
    ...(how.modulesInTree ? { modulesInTree: true } : {}), // absent: bookworm's cached trees keep their key
  });
  return {
    tree: source.tree,
    release: source.release,
    files: [
      { name: '.kernelvariables', text: vars },
      { name: '.config', text: config },
    ],
    targets: [...debianData().kbuild.prepareTargets, ...(how.modulesInTree ? ['modules_prepare'] : [])],
    // modpost reads the tree's Module.symvers for the CRCs of what the livepatch module calls.
    ...(how.modulesInTree ? { moduleSymvers: source.moduleSymvers } : {}),
    utsDefines: [],
    checkMakeKernelRelease: false,
    products: ['tools/objtool/objtool', ...(how.modulesInTree ? ['scripts/module.lds'] : [])],
    stamp: sourceStampKey(paths.stamp, stamp, key),
    lock: paths.lock,
    logFile: paths.log,
  };
}
