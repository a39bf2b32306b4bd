/**
 * Turns the first SIGINT/SIGTERM into an abort of the running stage (which then kills its children and
 * cleans up: the lock, the tree restore and child processes all follow the AbortSignal); a second one
 * calls `onSecondSignal`, which the CLI entry (run-cli.ts) makes an immediate exit.
 */
export function abortOnSignals(onSecondSignal: () => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) onSecondSignal();
    else controller.abort(name);
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
