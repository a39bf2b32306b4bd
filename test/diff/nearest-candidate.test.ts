import { describe, expect, it } from 'vitest';
import { nearestCandidate } from '../../src/diff/nearest-candidate.js';

// Three same-named statics (kallsyms order = address order) and where the object's own symbols are.
const candidates = [
  { name: 'p4d_offset', address: 0x1000n },
  { name: 'p4d_offset', address: 0x5000n },
  { name: 'p4d_offset', address: 0x9000n },
];

describe('nearestCandidate', () => {
  it.each([
    ['anchors around the second copy', [0x4800n, 0x5400n], 2],
    ['one anchor just before the third copy', [0x8ff0n], 3],
    ['anchors before the first copy', [0x10n, 0x200n], 1],
    ['no anchors', [], undefined],
    ['an anchor exactly between two copies', [0x3000n], undefined],
  ] as const)('%s', (_, anchors, expected) => {
    expect(nearestCandidate(candidates, anchors)).toBe(expected);
  });

  it('ignores candidates without an address', () => {
    expect(nearestCandidate([{ name: 'x' }, { name: 'x', address: 0x10n }], [0x0n])).toBe(2);
  });
});
