/**
 * Host compiler or build root: the kernel's CONFIG_CC_VERSION_TEXT names its compiler
 * ("x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0"). If the host runs that very compiler it is
 * used; otherwise the target suite's build root holding exactly that compiler version is. With
 * --skip-compiler-check the host's compiler is used whatever it is (kpatch's meaning: build anyway).
 */
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { BuildError } from '../errors.js';
import type { BuildRootSpec } from './build-root.js';
import { readConfigCompiler, withoutProgramName } from './compiler-check.js';

export interface ConfigCompiler {
  /** The command the kernel was built with, e.g. x86_64-linux-gnu-gcc-14. */
  command: string;
  /** The Debian package, e.g. gcc-14. */
  package: string;
  /** The Debian version, e.g. 14.2.0-19. */
  version: string;
  /** CONFIG_CC_VERSION_TEXT as recorded. */
  text: string;
}

/** Reads the compiler out of CONFIG_CC_VERSION_TEXT; undefined for a compiler that is not Debian's gcc. */
export function parseConfigCompiler(versionText: string): ConfigCompiler | undefined {
  const match = /^(\S*?)(gcc-\d+)\s+\(Debian ([0-9][^)\s]*)\)/.exec(versionText);
  if (!match) return undefined;
  const [, prefix = '', pkg = '', version = ''] = match;
  return { command: `${prefix}${pkg}`, package: pkg, version, text: versionText };
}

export type ToolchainChoice =
  | { kind: 'host'; reason: string }
  | { kind: 'build-root'; spec: BuildRootSpec; reason: string };

async function hostVersionLine(command: string): Promise<string | undefined> {
  const result = await execa(command, ['--version'], { reject: false });
  return result.failed ? undefined : result.stdout.split('\n')[0]?.trim();
}

/** Decides where the target's objects are compiled; throws BuildError when neither can be. */
export async function chooseToolchain(options: {
  config: string;
  suite: string;
  skipCompilerCheck?: boolean;
}): Promise<ToolchainChoice> {
  const { versionText } = readConfigCompiler(await readFile(options.config, 'utf8'));
  if (options.skipCompilerCheck) return { kind: 'host', reason: '--skip-compiler-check' };
  if (versionText === undefined) {
    throw new BuildError(`${options.config}: no CONFIG_CC_VERSION_TEXT names the kernel's compiler`, {
      hint: 'pass --skip-compiler-check to build with the host compiler anyway',
    });
  }
  const wanted = parseConfigCompiler(versionText);
  const host = await hostVersionLine(wanted?.command ?? versionText.split(' ')[0] ?? 'gcc');
  if (host !== undefined && withoutProgramName(host) === withoutProgramName(versionText))
    return { kind: 'host', reason: `the host's ${host} is the kernel's compiler` };
  if (!wanted) {
    throw new BuildError(
      `the kernel was built with "${versionText}", which is not on this host and not a Debian gcc`,
      { hint: 'install that compiler, or pass --skip-compiler-check' },
    );
  }
  return {
    kind: 'build-root',
    spec: { suite: options.suite, compilerPackage: wanted.package, compilerVersion: wanted.version },
    reason: `the host has ${host ?? `no ${wanted.command}`}; the kernel was built with "${versionText}"`,
  };
}
