import { describe, expect, it } from 'vitest';
import { compileProgress } from '../../src/pipeline/build-objects.js';

describe('compileProgress', () => {
  it('reports about ten times per batch, ending with the total, and nothing for small batches', () => {
    const lines: string[] = [];
    const tick = compileProgress(40, (m) => lines.push(m));
    for (let i = 0; i < 40; i++) tick();
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(/^4\/40 objects compiled, about \d+ s left$/);
    expect(lines.at(-1)).toBe('40/40 objects compiled');
    const small: string[] = [];
    const few = compileProgress(3, (m) => small.push(m));
    for (let i = 0; i < 3; i++) few();
    expect(small).toEqual([]);
  });
});
