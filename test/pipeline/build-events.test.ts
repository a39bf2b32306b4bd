import { describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/pipeline/build-events.js';
import { describeEvent, isShownEvent, observeTimings, runStep } from '../../src/pipeline/build-events.js';

describe('step events and timings', () => {
  it('times each step, also a failing one, and the observer sums them per step in order', async () => {
    const events: BuildEvent[] = [];
    const timings = observeTimings();
    const emit = (e: BuildEvent) => {
      events.push(e);
      timings.observe(e);
    };
    expect(await runStep(emit, 'patch test', () => 7)).toBe(7);
    await expect(
      runStep(emit, 'diff', async () => {
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await runStep(emit, 'patch test', () => undefined);
    expect(events.map((e) => e.kind === 'step' && e.step)).toEqual(['patch test', 'diff', 'patch test']);
    expect(Object.keys(timings.timings)).toEqual(['patch test', 'diff']);
    expect(timings.timings.diff).toBeGreaterThanOrEqual(15);
  });

  it.each<[BuildEvent, string, boolean]>([
    [{ kind: 'phase', message: 'Testing patch file(s)' }, 'Testing patch file(s)', true],
    [
      { kind: 'function', object: 'fs/proc/cmdline.o', function: 'cmdline_proc_show', change: 'changed' },
      'fs/proc/cmdline.o: changed function: cmdline_proc_show',
      true,
    ],
    [{ kind: 'note', message: 'work directory kept: /tmp/x' }, 'work directory kept: /tmp/x', true],
    [{ kind: 'step', step: 'diff', ms: 12 }, 'diff: 12 ms', false],
  ])('%j reads "%s" (shown: %s)', (event, line, shown) => {
    expect(describeEvent(event)).toBe(line);
    expect(isShownEvent(event)).toBe(shown);
  });
});
