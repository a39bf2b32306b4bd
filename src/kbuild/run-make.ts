import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { BuildError } from '../errors.js';
import { abortError } from '../source/abort.js';
import type { ToolCommand, WrapCommand } from './tool-command.js';

export interface RunMakeOptions {
  /** Directory make runs in (-C). */
  dir: string;
  args: string[];
  /** Full output goes here; it is named in the error when make fails. */
  logFile: string;
  signal?: AbortSignal;
  env?: Record<string, string>;
  /** Each output line, for -d. */
  onLine?: (line: string) => void;
  /** Names the build in error messages, e.g. "test kernel". */
  what: string;
  /** The command line, before it runs (-d shows it). */
  onCommand?: (command: string) => void;
  /** Set by a toolchain (wrappedToolchain): make runs where its compiler is, e.g. inside a build root. */
  wrap?: WrapCommand;
}

/** Compiler and modpost errors ("error:", "ERROR: modpost: ...", "make: *** ... Error 2"), not warnings. */
export function isErrorLine(line: string): boolean {
  return /\berror:|\bERROR:|\*\*\* .*\bError \d+|^make(\[\d+\])?: \*\*\* /.test(line);
}

/** Runs make, logging everything; on failure the error quotes the first compiler error and names the log. */
export async function runMake(options: RunMakeOptions): Promise<void> {
  await mkdir(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  log.write(`$ make -C ${options.dir} ${options.args.join(' ')}\n`);
  options.onCommand?.(`make -C ${options.dir} ${options.args.join(' ')}`);
  const command: ToolCommand = {
    file: 'make',
    args: ['-C', options.dir, ...options.args],
    cwd: options.dir,
  };
  const run = options.wrap ? options.wrap(command) : command;
  const child = execa(run.file, run.args, {
    all: true,
    reject: false,
    buffer: false,
    ...(options.env ? { env: options.env } : {}),
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    forceKillAfterDelay: 3000,
  });
  const firstErrors: string[] = [];
  let pending = '';
  child.all?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (firstErrors.length < 3 && isErrorLine(line)) firstErrors.push(line.trim());
      options.onLine?.(line);
    }
  });
  const result = await child;
  await new Promise<void>((resolve) => log.end(resolve));
  // Stopped by our abort (or killed by the same Ctrl-C before it reached us): an interrupt, not a failure.
  if (options.signal?.aborted && result.failed) throw abortError(options.signal);
  if (result.failed) {
    const summary = firstErrors.length > 0 ? `: ${firstErrors.join(' | ')}` : ` (exit ${result.exitCode})`;
    throw new BuildError(`${options.what}: make ${options.args.join(' ')} failed${summary}`, {
      logPath: options.logFile,
      hint: 'the log has the full compiler output',
    });
  }
}
