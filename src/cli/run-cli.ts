import { InterruptedError, isKpatchError, UsageError } from '../errors.js';
import { exitCodeFor } from './exit-codes.js';
import { abortOnSignals } from './signals.js';

/** What the entry gives a command's main: the process-wide parts only the entry may own. */
export interface CliRuntime {
  /** SIGINT/SIGTERM abort the returned signal; a second signal exits at once (130/143). Dispose when done. */
  interrupts(): { signal: AbortSignal; dispose: () => Promise<void> };
}

/** The one place the process is ended early: a second Ctrl-C while the first one's cleanup runs. */
const runtime: CliRuntime = {
  interrupts: () => abortOnSignals((signal) => process.exit(exitCodeFor(new InterruptedError(signal)))),
};

/** node:util parseArgs rejects unknown or malformed options with its own errors: they are usage errors. */
function usageErrorFromParseArgs(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
    return new UsageError((error as Error).message, { hint: 'see --help' });
  }
  return error;
}

/** -d/--debug (or KPATCH_DEBUG=1) shows stacks; users otherwise see one line and a hint. */
function wantsStack(): boolean {
  const argv = process.argv.slice(2);
  return Boolean(process.env.KPATCH_DEBUG) || argv.includes('-d') || argv.includes('--debug');
}

function printInternalError(name: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${name}: internal error: ${message}\n`);
  if (wantsStack() && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else
    process.stderr.write(
      `${name}: hint: this is a bug; run again with -d (or KPATCH_DEBUG=1) for the stack, and report it\n`,
    );
}

/**
 * Runs a command's main function and turns its outcome into output and an exit code.
 * Every bin/ launcher goes through here, so errors look the same everywhere.
 */
export async function runCli(
  name: string,
  main: (argv: string[], runtime: CliRuntime) => Promise<number | undefined>,
): Promise<void> {
  let code: number;
  try {
    code = (await main(process.argv.slice(2), runtime)) ?? 0;
  } catch (thrown) {
    const error = usageErrorFromParseArgs(thrown);
    code = exitCodeFor(error);
    if (isKpatchError(error)) {
      process.stderr.write(`${name}: ERROR: ${error.message}\n`);
      if (error.hint) process.stderr.write(`${name}: hint: ${error.hint}\n`);
      if (error.logPath) process.stderr.write(`${name}: log: ${error.logPath}\n`);
      if (wantsStack() && error.stack) process.stderr.write(`${error.stack}\n`);
    } else {
      printInternalError(name, error);
    }
  }
  process.exitCode = code;
}
