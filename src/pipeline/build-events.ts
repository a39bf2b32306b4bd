/**
 * What the pipeline reports while it works. The progress UI, the build log and the JSON report's timings
 * all read these events; timings come from `step` events only (observeTimings), measured by runStep.
 */
export type BuildEvent =
  | { kind: 'phase'; message: string }
  | { kind: 'function'; object: string; function: string; change: 'changed' | 'new' }
  | { kind: 'note'; message: string }
  /** A named step ended after `ms` milliseconds (the JSON report's timings). */
  | { kind: 'step'; step: string; ms: number };

export type EmitEvent = (event: BuildEvent) => void;

/** A build event as one line of text, as the plain output and the build log show it. */
export function describeEvent(event: BuildEvent): string {
  if (event.kind === 'function') return `${event.object}: ${event.change} function: ${event.function}`;
  if (event.kind === 'step') return `${event.step}: ${event.ms} ms`;
  return event.message;
}

/** True for the events a person reads (step timings are for the report). */
export function isShownEvent(event: BuildEvent): boolean {
  return event.kind !== 'step';
}

/** Runs one named step and emits its wall time as a `step` event, also when it fails. */
export async function runStep<T>(emit: EmitEvent, step: string, fn: () => Promise<T> | T): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    emit({ kind: 'step', step, ms: Math.round(performance.now() - started) });
  }
}

/** Collects the step times out of the events, in the order the steps ended. */
export function observeTimings(): { observe: EmitEvent; timings: Record<string, number> } {
  const timings: Record<string, number> = {};
  return {
    observe: (event) => {
      if (event.kind === 'step') timings[event.step] = (timings[event.step] ?? 0) + event.ms;
    },
    timings,
  };
}
