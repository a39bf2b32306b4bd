import { describe, expect, it } from 'vitest';
import { ObjectSymbols, resolveSympos } from '../../src/symbols/resolve-sympos.js';

const table = new ObjectSymbols('vmlinux', [
  { name: 'unique', address: 0x10n },
  { name: 'twice', address: 0x20n, file: 'a.c' },
  { name: 'twice', address: 0x30n, file: 'b.c' },
]);

describe('resolveSympos', () => {
  it.each([
    ['unique', 0, { ok: true, sympos: 0, count: 1 }],
    ['unique', 1, { ok: true, sympos: 1, count: 1 }],
    ['twice', 2, { ok: true, sympos: 2, count: 2 }],
  ] as const)('%s at position %i resolves', (name, pos, result) => {
    expect(resolveSympos(table, name, pos)).toEqual(result);
  });

  it.each([
    ['missing', 0, 'missing', 0],
    ['twice', 0, 'ambiguous', 2],
    ['twice', 3, 'out-of-range', 2],
    ['unique', 2, 'out-of-range', 1],
  ] as const)('%s at position %i is refused as %s, with %i candidates listed', (name, pos, reason, count) => {
    const result = resolveSympos(table, name, pos);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(reason);
      expect(result.candidates).toHaveLength(count);
    }
  });

  it('lists candidates in position order', () => {
    const result = resolveSympos(table, 'twice', 0);
    expect(result.ok ? [] : result.candidates.map((c) => c.file)).toEqual(['a.c', 'b.c']);
  });
});
