import { readFileSync } from 'node:fs';

/** Our process group, if we lead it (a shell's job, or a detached child): then it holds only us and ours. */
function ledProcessGroup(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces): state, ppid, pgrp.
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return pgrp === process.pid ? pgrp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Turns the first SIGINT/SIGTERM into an abort of the running stage (which then kills its children and
 * cleans up: the lock, the tree restore and child processes all follow the AbortSignal); a second one
 * calls `onSecondSignal`, which the CLI entry (run-cli.ts) makes an immediate exit.
 *
 * A `kill PID` reaches only us, and the children execa stops (make, sh) do not pass it on to theirs
 * (gcc under a recipe's shell): when we lead our process group, the first signal is passed to the whole
 * group, as Ctrl-C at a terminal would, so no compiler or VM outlives the run. Its echo back to us is
 * not a second signal.
 */
export function abortOnSignals(onSecondSignal: (signal: NodeJS.Signals) => void): {
  signal: AbortSignal;
  dispose: () => void;
} {
  const controller = new AbortController();
  let echoes = 0;
  const handler = (name: NodeJS.Signals) => {
    if (echoes > 0) {
      echoes -= 1;
      return;
    }
    if (controller.signal.aborted) return onSecondSignal(name);
    controller.abort(name);
    const group = ledProcessGroup();
    if (group === undefined) return;
    echoes += 1;
    try {
      process.kill(-group, name);
    } catch {
      echoes -= 1;
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
