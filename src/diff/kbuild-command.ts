import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BuildError } from '../errors.js';

/**
 * The compile command kbuild recorded for `object` (relative to the build tree) in `.<name>.o.cmd`:
 * the `savedcmd_` (6.3+) or `cmd_` line, a shell command meant to run in the tree's top directory.
 */
export async function recordedCommand(buildDir: string, object: string): Promise<string> {
  // An out-of-tree module's objects are recorded by absolute path (kbuild ran with M=<its source>).
  const cmdFile = join(resolve(buildDir, dirname(object)), `.${basename(object)}.cmd`);
  const text = await readFile(cmdFile, 'utf8').catch((cause: unknown) => {
    throw new BuildError(`no kbuild command file ${cmdFile}`, { cause, hint: 'build the tree first' });
  });
  for (const line of text.split('\n')) {
    const m = /^(?:savedcmd|cmd)_(\S+) := (.*)$/.exec(line);
    if (m && m[1] === object) return m[2]!;
  }
  throw new BuildError(`${cmdFile} records no command for ${object}`);
}

export interface RetargetOptions {
  /** The object the command builds and its source, as written in the command. */
  object: string;
  source: string;
  /** Where to compile from and write to instead (absolute paths). */
  newSource: string;
  newObject: string;
  /** Flags added before the source, e.g. -ffunction-sections or -I for the original directory. */
  extraFlags?: readonly string[];
  /** Keep the objtool run that follows the compile (on the new object). */
  keepObjtool?: boolean;
}

/**
 * Rewrites a recorded command to compile a copy of the source elsewhere, leaving the tree untouched:
 * no dependency file is written into it and the output goes to `newObject`.
 */
export function retargetCommand(command: string, options: RetargetOptions): string {
  const [compile = '', ...rest] = command.split(' ; ');
  const flags = (options.extraFlags ?? []).map((f) => `'${f.replaceAll("'", "'\\''")}'`).join(' ');
  const compileOut = compile
    .replace(/-Wp,-MMD,\S+/, '')
    .replace(` -o ${options.object} `, ` -o '${options.newObject}' `)
    .replace(new RegExp(`\\s${escapeRegExp(options.source)}(\\s|$)`), ` ${flags} '${options.newSource}'$1`);
  if (!compileOut.includes(options.newSource) || !compileOut.includes(options.newObject)) {
    throw new BuildError(`cannot retarget the recorded command of ${options.object}`);
  }
  const objtool = rest.find((part) => part.includes('objtool'));
  if (!options.keepObjtool || !objtool) return compileOut;
  return `${compileOut} && ${objtool.replace(new RegExp(`\\s${escapeRegExp(options.object)}(\\s|$)`), ` '${options.newObject}'$1`)}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
