/**
 * Recompiles one kernel object the way kbuild last built it, but with -ffunction-sections
 * -fdata-sections and every output redirected into a work directory, so the tree's own objects,
 * dependency files and timestamps are never touched.
 *
 * Why rewrite tokens instead of building our own gcc argv: kbuild's recorded command is a shell script
 * (compile; objtool; on MODVERSIONS kernels genksyms and `ld -r`), and all of it has to run on our copy.
 * So the command is split with a shell lexer that keeps each token's raw text; only words whose value is
 * exactly a known output path (or -Wp,-MMD,<depfile>) are replaced, everything else — including quoting
 * like -DKBUILD_MODNAME='"cmdline"' — is passed to `sh -c` verbatim.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, resolve } from 'node:path';
import { execa } from 'execa';
import { BuildError } from '../errors.js';
import { abortError } from '../source/abort.js';
import type { KbuildObject } from './kbuild-index.js';
import { quoteShellWord, type ShellToken, splitShellWords } from './shell-words.js';
import type { ToolCommand, WrapCommand } from './tool-command.js';

export interface CompileObjectOptions {
  /** The kernel tree the command was recorded in; the command runs there. */
  tree: string;
  object: Pick<KbuildObject, 'target' | 'source' | 'command'>;
  /** Outputs go under here, at the object's relative path. */
  workDir: string;
  /** Compile this file instead of the recorded source (e.g. a patched copy). */
  sourceFile?: string;
  /** Extra compiler flags; -ffunction-sections -fdata-sections are always added. */
  extraFlags?: string[];
  signal?: AbortSignal;
  /** The command line, before it runs (-d shows it). */
  onCommand?: (command: string) => void;
  /** Set by a toolchain (wrappedToolchain): the compile runs where its compiler is (a build root). */
  wrap?: WrapCommand;
  /** Set by a toolchain: a compiler launcher put before the recorded compiler (`distcc`, kbuild-style). */
  launcher?: readonly string[];
}

export interface CompiledObject {
  /** Absolute path of the new object. */
  output: string;
  /** The command that was run (sh -c, cwd = tree). */
  command: string;
  logFile: string;
}

const SECTION_FLAGS = ['-ffunction-sections', '-fdata-sections'];

export interface RewriteInput {
  target: string;
  source: string;
  command: string;
  /** Absolute output path. */
  output: string;
  /** Absolute path for the dependency file. */
  depFile: string;
  sourceFile?: string;
  flags: string[];
  /** Words put before the recorded compiler (the command's first word), e.g. ['distcc']. */
  launcher?: readonly string[];
}

/** The compiler kbuild records as a command's first word: gcc, x86_64-linux-gnu-gcc-12, clang, cc. */
export function isCompilerWord(word: string): boolean {
  return /^(?:.*[-/])?(?:gcc|clang|cc)(?:-\d+)?$/.test(word);
}

/** The recorded command with `launcher` before its compiler; throws when the first word is no compiler. */
function launchCompiler(tokens: ShellToken[], launcher: readonly string[], target: string): void {
  const first = tokens.findIndex((t) => t.kind !== 'space');
  const token = tokens[first];
  if (token?.kind !== 'word' || token.dynamic || !isCompilerWord(token.value)) {
    throw new BuildError(
      `${target}: the recorded command starts with "${token?.raw ?? ''}", not a compiler, so ${launcher.join(' ')} cannot run it`,
      { hint: `build without ${launcher[0]} (unset DISTCC_HOSTS)` },
    );
  }
  tokens[first] = { ...token, raw: `${launcher.map(quoteShellWord).join(' ')} ${token.raw}` };
}

/** kbuild's temporary files for a target (`dir/.tmp_name.ver` etc.) are redirected next to the output. */
function redirectTemp(value: string, target: string, outDir: string): string | undefined {
  const dir = posix.dirname(target);
  const prefix = `${dir === '.' ? '' : `${dir}/`}.tmp_`;
  if (!value.startsWith(prefix)) return undefined;
  return join(outDir, value.slice(prefix.length - 5));
}

/**
 * objtool's link-time pass (`objtool … --link …`) in a recorded compile: where kbuild delays objtool to
 * link time (IBT, LTO) it runs it on an object only when that object is a whole module (binfmt_misc.o).
 * Our copy is never a whole module: it is linked into the livepatch, and kbuild runs that same pass on
 * the livepatch at its link. Run twice, objtool finds its own sections (.orc_unwind, .call_sites) already
 * there: 6.12's skips them (so klp-main.o got no ORC), 7.x's fails the module link.
 */
const LINK_TIME_OBJTOOL = /\s*;\s*\S*objtool\s[^;]*\s--link\b[^;]*/g;

export function withoutLinkTimeObjtool(command: string): string {
  return command.replace(LINK_TIME_OBJTOOL, '');
}

/** Rewrites a recorded kbuild command; exported for tests. Throws BuildError if it is not a compile. */
export function rewriteCompileCommand(input: RewriteInput): string {
  const tokens = splitShellWords(withoutLinkTimeObjtool(input.command));
  if (input.launcher?.length) launchCompiler(tokens, input.launcher, input.target);
  const outDir = dirname(input.output);
  let sawTarget = false;
  let inserted = false;
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind !== 'word' || token.dynamic) {
      out.push(token.raw);
      continue;
    }
    const value = token.value;
    const depFlag = /^(-Wp,-M{1,2}D,)(.+)$/.exec(value);
    if (value === input.target) {
      out.push(quoteShellWord(input.output));
      sawTarget = true;
    } else if (depFlag) {
      out.push(quoteShellWord(`${depFlag[1]}${input.depFile}`));
    } else if (value === '-c' && !inserted) {
      out.push([...input.flags, '-c'].map(quoteShellWord).join(' '));
      inserted = true;
    } else if (input.sourceFile !== undefined && value === input.source) {
      out.push(quoteShellWord(input.sourceFile));
    } else {
      const temp = redirectTemp(value, input.target, outDir);
      out.push(temp === undefined ? token.raw : quoteShellWord(temp));
    }
  }
  if (!inserted || !sawTarget) {
    throw new BuildError(`${input.target}: the recorded command is not a compile of that object`, {
      hint: 'rebuild the tree with make so its .cmd files are current',
    });
  }
  return out.join('');
}

/** Flags that keep a copied source compiling as if it were in the tree (quote includes, __FILE__). */
function copiedSourceFlags(tree: string, source: string, sourceFile: string): string[] {
  const flags = ['-iquote', posix.dirname(source)];
  const abs = resolve(tree, sourceFile);
  if (abs.endsWith(`/${source}`)) flags.push(`-ffile-prefix-map=${abs.slice(0, -source.length)}=`);
  return flags;
}

function firstErrors(output: string): string[] {
  const lines = output.split('\n').filter((l) => /\berror\b|Error \d|fatal/i.test(l));
  return lines.slice(0, 3).map((l) => l.trim());
}

/** Compiles `object` into workDir with per-function/per-data sections; returns the new object's path. */
export async function compileObject(options: CompileObjectOptions): Promise<CompiledObject> {
  const { tree, object, workDir, signal } = options;
  if (signal?.aborted) throw abortError(signal);
  // An external module's objects are recorded by absolute path: they still go under the work dir.
  const output = join(resolve(workDir), object.target);
  const outDir = dirname(output);
  await mkdir(outDir, { recursive: true });
  const base = posix.basename(object.target);
  const flags = [...SECTION_FLAGS, ...(options.extraFlags ?? [])];
  if (options.sourceFile !== undefined)
    flags.push(...copiedSourceFlags(tree, object.source, options.sourceFile));
  const sourceFile =
    options.sourceFile === undefined || isAbsolute(options.sourceFile)
      ? options.sourceFile
      : resolve(options.sourceFile);
  const command = rewriteCompileCommand({
    target: object.target,
    source: object.source,
    command: object.command,
    output,
    depFile: join(outDir, `.${base}.d`),
    ...(sourceFile === undefined ? {} : { sourceFile }),
    flags,
    ...(options.launcher ? { launcher: options.launcher } : {}),
  });
  const logFile = join(outDir, `.${base}.log`);
  options.onCommand?.(`(cd ${tree} && ${command})`);
  const sh: ToolCommand = { file: 'sh', args: ['-c', command], cwd: tree };
  const run = options.wrap ? options.wrap(sh) : sh;
  const result = await execa(run.file, run.args, {
    cwd: tree,
    all: true,
    reject: false,
    ...(signal ? { cancelSignal: signal } : {}),
    forceKillAfterDelay: 3000,
  });
  await writeFile(logFile, `$ cd ${tree} && ${command}\n${result.all ?? ''}\n`);
  if (signal?.aborted && result.failed) throw abortError(signal);
  if (result.failed) {
    const errors = firstErrors(result.all ?? '');
    const summary = errors.length > 0 ? errors.join(' | ') : `exit ${result.exitCode ?? result.signal}`;
    throw new BuildError(`compiling ${object.target} failed: ${summary}`, {
      logPath: logFile,
      hint: `the log has the full compiler output and the command (run in ${tree})`,
    });
  }
  return { output, command, logFile };
}
