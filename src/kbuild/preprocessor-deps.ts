/**
 * The exact list of files an object reads, from the preprocessor: the object's own compile command with
 * `-c -o X` replaced by `-M -MG` (dependencies to standard output; a missing generated header is listed,
 * not an error), run through the target's toolchain so a build root's compiler answers.
 */
import { execa } from 'execa';
import { BuildError } from '../errors.js';
import { abortError } from '../source/abort.js';
import { normalizeTreePath } from './kbuild-cmd-file.js';
import { splitShellWords } from './shell-words.js';
import type { ToolCommand } from './tool-command.js';

/** The compile part of a recorded command, rewritten to print its dependencies. */
export function dependencyCommand(command: string): string {
  const out: string[] = [];
  let skipNext = false;
  for (const token of splitShellWords(command)) {
    if (token.kind === 'operator') break; // `; objtool ...`: only the compile
    if (token.kind === 'space') continue;
    if (skipNext) {
      skipNext = false;
      continue;
    }
    if (/^-Wp,-M{1,2}D,/.test(token.value)) continue;
    if (token.value === '-o') {
      skipNext = true;
      continue;
    }
    out.push(token.value === '-c' ? '-M -MG' : token.raw);
  }
  return out.join(' ');
}

/** Reads a make rule (`x.o: a.c b.h \` ...) into its prerequisites, relative to `root` where inside it. */
export function parseMakeRule(text: string, root: string): string[] {
  const colon = text.indexOf(': ');
  const body = colon >= 0 ? text.slice(colon + 2) : text;
  return body
    .replaceAll('\\\n', ' ')
    .split(/\s+/)
    .filter((p) => p !== '' && p !== '\\')
    .map((p) => normalizeTreePath(p, root).replace(/^\.\//, ''));
}

export interface PreprocessorDepsOptions {
  tree: string;
  command: string;
  /** The target's toolchain.command. */
  wrap: (command: ToolCommand) => ToolCommand;
  signal?: AbortSignal;
}

/** Every file the object's compile reads. */
export async function preprocessorDeps(target: string, options: PreprocessorDepsOptions): Promise<string[]> {
  const run = options.wrap({
    file: 'sh',
    args: ['-c', dependencyCommand(options.command)],
    cwd: options.tree,
  });
  const result = await execa(run.file, run.args, {
    reject: false,
    ...(run.cwd ? { cwd: run.cwd } : {}),
    ...(options.signal ? { cancelSignal: options.signal } : {}),
  });
  if (options.signal?.aborted) throw abortError(options.signal);
  if (result.failed) {
    throw new BuildError(
      `${target}: the preprocessor could not list its includes: ${result.stderr.split('\n')[0]}`,
      {
        hint: 'the tree may not be prepared for this configuration (make prepare)',
      },
    );
  }
  return parseMakeRule(result.stdout, options.tree);
}
