import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long the processes our signal reached may take to end before they are killed outright. */
const SETTLE_MS = 2000;

/** state, ppid, pgrp, ... of a process (/proc/PID/stat; the command name before them may hold spaces). */
function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Our process group, if we lead it (a shell's job, or a detached child): then it holds only us and ours. */
function ledProcessGroup(): number | undefined {
  const pgrp = Number(statFields('self')?.[2]);
  return pgrp === process.pid ? pgrp : undefined;
}

/** The other live processes of process group `pgid` (zombies are dead already, only not reaped). */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((entry) => {
      const fields = statFields(Number(entry));
      return fields !== undefined && fields[0] !== 'Z' && Number(fields[2]) === pgid;
    })
    .map(Number);
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Turns the first SIGINT/SIGTERM into an abort of the running stage (which then kills its children and
 * cleans up: the lock, the tree restore and child processes all follow the AbortSignal); a second one
 * calls `onSecondSignal`, which the CLI entry (run-cli.ts) makes an immediate exit.
 *
 * A `kill PID` reaches only us, and the children execa stops (make, sh) do not pass it on to theirs
 * (gcc under a recipe's shell): when we lead our process group, the first signal is passed to the whole
 * group, as Ctrl-C at a terminal would (its echo back to us is not a second signal), and `dispose`
 * waits for the group to empty — killing what a dying make or shell started meanwhile — so no
 * compiler or VM outlives the run.
 */
export function abortOnSignals(onSecondSignal: (signal: NodeJS.Signals) => void): {
  signal: AbortSignal;
  dispose: () => Promise<void>;
} {
  const controller = new AbortController();
  let echoes = 0;
  let forwardedTo: number | undefined;
  const handler = (name: NodeJS.Signals) => {
    if (echoes > 0) {
      echoes -= 1;
      return;
    }
    if (controller.signal.aborted) return onSecondSignal(name);
    controller.abort(name);
    forwardedTo = ledProcessGroup();
    if (forwardedTo === undefined) return;
    echoes += 1;
    try {
      process.kill(-forwardedTo, name);
    } catch {
      echoes -= 1;
    }
  };
  const settle = async (group: number) => {
    const deadline = Date.now() + SETTLE_MS;
    while (groupMembers(group).length > 0 && Date.now() < deadline) await sleep(50);
    for (const pid of groupMembers(group)) killQuietly(pid, 'SIGKILL');
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: async () => {
      if (forwardedTo !== undefined) await settle(forwardedTo);
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
