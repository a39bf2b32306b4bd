import { afterEach, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { abortOnSignals } from '../../src/cli/signals.js';
import { abortError } from '../../src/source/abort.js';

// Signals are emitted in-process: this worker does not lead its process group, so nothing is forwarded.
describe('abortOnSignals', () => {
  let dispose: (() => Promise<void>) | undefined;
  afterEach(() => dispose?.());

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('the first %s aborts with its name, which the run ends with (exit %i)', (name, exit) => {
    const seconds: string[] = [];
    const interrupts = abortOnSignals((signal) => seconds.push(signal));
    dispose = interrupts.dispose;
    process.emit(name, name);
    expect(interrupts.signal.aborted).toBe(true);
    expect(seconds).toEqual([]);
    expect(exitCodeFor(abortError(interrupts.signal))).toBe(exit);
  });

  it('a second signal, of either kind, calls onSecondSignal with it', () => {
    const seconds: string[] = [];
    const interrupts = abortOnSignals((signal) => seconds.push(signal));
    dispose = interrupts.dispose;
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGTERM', 'SIGTERM');
    expect(seconds).toEqual(['SIGTERM']);
    expect(interrupts.signal.reason).toBe('SIGINT');
  });
});
