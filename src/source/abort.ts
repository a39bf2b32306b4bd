import { InterruptedError, KpatchError } from '../errors.js';

/**
 * The error to reject with when an AbortSignal fires: its reason if that is already one of ours
 * (e.g. `controller.abort(new InterruptedError('SIGTERM'))`), InterruptedError(reason) for a string
 * reason such as 'SIGTERM', else InterruptedError('SIGINT') — Ctrl-C being the usual cause.
 */
export function abortError(signal: AbortSignal): KpatchError {
  const reason: unknown = signal.reason;
  if (reason instanceof KpatchError) return reason;
  return new InterruptedError(typeof reason === 'string' ? reason : 'SIGINT');
}
