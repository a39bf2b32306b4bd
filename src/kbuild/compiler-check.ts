/**
 * The objects we compile are compared with, and linked against, code the target's own compiler made:
 * a different compiler version changes inlining and code layout everywhere, so the diff would find
 * spurious changes or miss real ones. Like kpatch, refuse unless the local compiler is the same one,
 * read from the target's .config (CONFIG_CC_VERSION_TEXT is `$(CC) --version | head -1`) or from a
 * vmlinux's .comment section ("GCC: (Debian 12.2.0-14+deb12u1) 12.2.0").
 */
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { findSection, readElfFile } from '../elf/index.js';
import { BuildError } from '../errors.js';
import type { ToolCommand, WrapCommand } from './tool-command.js';

export interface CompilerCheckOptions {
  /** The target's .config. */
  config?: string;
  /** The target's vmlinux (or a module); its .comment is authoritative when given. */
  vmlinux?: string;
  /** Compiler command; default: clang if the config says CONFIG_CC_IS_CLANG=y, else gcc. */
  cc?: string;
  /** Where the compiler runs (Toolchain.command, e.g. into a build root); default: the host. */
  wrap?: WrapCommand;
}

function runWith(wrap: WrapCommand | undefined, command: ToolCommand) {
  const run = wrap ? wrap(command) : command;
  return execa(run.file, run.args, { reject: false, ...(run.cwd ? { cwd: run.cwd } : {}) });
}

export interface CompilerCheckResult {
  cc: string;
  /** What the target was built with, in the form it was recorded. */
  target: string;
  /** The same for the local compiler. */
  local: string;
  source: 'config' | 'vmlinux';
}

/** CONFIG_CC_VERSION_TEXT and whether the kernel was built with clang, from .config text. */
export function readConfigCompiler(configText: string): { versionText?: string; clang: boolean } {
  const text = /^CONFIG_CC_VERSION_TEXT="(.*)"$/m.exec(configText)?.[1];
  const clang = /^CONFIG_CC_IS_CLANG=y$/m.test(configText);
  return { ...(text === undefined ? {} : { versionText: text.replace(/\\(.)/g, '$1') }), clang };
}

/** The compiler identification in a .comment section: "GCC: (...) x.y.z" or "clang version x.y.z". */
export function compilerFromComment(comment: Buffer): string | undefined {
  const strings = comment.toString('latin1').split('\0');
  return (
    strings.find((s) => s.startsWith('GCC:'))?.trim() ??
    strings.map((s) => /clang version [0-9.]+/.exec(s)?.[0]).find((s): s is string => s !== undefined)
  );
}

/** Reads .comment without loading the (possibly huge) file: only its bytes are read. */
export async function readCommentSection(path: string): Promise<Buffer | undefined> {
  const elf = await readElfFile(path, { symbolsOnly: true });
  const origin = findSection(elf, '.comment')?.origin;
  if (!origin) return undefined;
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(origin.size);
    await handle.read(buffer, 0, origin.size, origin.offset);
    return buffer;
  } finally {
    await handle.close();
  }
}

/** What the local compiler writes into .comment: compile an empty file and read it back. */
async function localCommentIdentity(cc: string, wrap?: WrapCommand): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'kpatch-cc-'));
  try {
    await writeFile(join(dir, 't.c'), 'void kpatch_cc_check(void) {}\n');
    const compiled = await runWith(wrap, {
      file: cc,
      args: ['-c', '-o', join(dir, 't.o'), join(dir, 't.c')],
      cwd: dir,
    });
    if (compiled.failed)
      throw new BuildError(`${cc} could not compile a test file: ${compiled.shortMessage}`);
    const comment = await readCommentSection(join(dir, 't.o'));
    return comment && compilerFromComment(comment);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `gcc --version` starts with the name it was called by ("gcc-12 (Debian 12.2.0-14) 12.2.0" from Debian's
 * kernel build, "gcc (Debian 12.2.0-14) 12.2.0" here): the same compiler, so the name is not compared.
 */
export function withoutProgramName(versionLine: string): string {
  return versionLine.replace(/^\S+\s+/, '');
}

function mismatch(cc: string, target: string, local: string, where: string): BuildError {
  return new BuildError(
    `compiler mismatch: the target was built with "${target}" (${where}), the local ${cc} is "${local}"`,
    {
      hint: 'install the compiler the kernel was built with (recommended), or pass --skip-compiler-check to build anyway (the patch may not match the kernel)',
    },
  );
}

/** Checks the local compiler against the target's; throws BuildError (code 'build') on a mismatch. */
export async function checkCompiler(options: CompilerCheckOptions): Promise<CompilerCheckResult> {
  const configText = options.config ? await readFile(options.config, 'utf8') : '';
  const fromConfig = readConfigCompiler(configText);
  const cc = options.cc ?? (fromConfig.clang ? 'clang' : 'gcc');
  const version = await runWith(options.wrap, { file: cc, args: ['--version'] });
  if (version.failed) {
    throw new BuildError(`the compiler ${cc} cannot be run: ${version.shortMessage}`, {
      hint: 'install it, or name another with the compiler option',
    });
  }
  if (options.vmlinux) {
    const comment = await readCommentSection(options.vmlinux);
    const target = comment && compilerFromComment(comment);
    if (!target) {
      throw new BuildError(`${options.vmlinux} has no compiler identification in .comment`, {
        hint: 'pass --skip-compiler-check if you know the compilers match',
      });
    }
    const local = (await localCommentIdentity(cc, options.wrap)) ?? '(none)';
    if (local !== target) throw mismatch(cc, target, local, `.comment of ${options.vmlinux}`);
    return { cc, target, local, source: 'vmlinux' };
  }
  if (fromConfig.versionText === undefined) {
    throw new BuildError(
      `${options.config ?? 'no .config given'}: no CONFIG_CC_VERSION_TEXT to compare with`,
      {
        hint: 'give the vmlinux, or pass --skip-compiler-check',
      },
    );
  }
  const local = version.stdout.split('\n')[0]?.trim() ?? '';
  if (withoutProgramName(local) !== withoutProgramName(fromConfig.versionText))
    throw mismatch(cc, fromConfig.versionText, local, options.config ?? '');
  return { cc, target: fromConfig.versionText, local, source: 'config' };
}
