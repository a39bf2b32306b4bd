import { describe, expect, it } from 'vitest';
import { releasesOfShard, sortReleases } from '../../src/pipeline/batch-releases.js';

const BOOKWORM = ['6.1.0-57-amd64', '6.1.0-9-amd64', '6.1.0-47-amd64', '6.1.0-50-amd64', '6.1.0-47-amd64'];

describe('sortReleases', () => {
  it('orders release numbers as numbers and drops repeats, whatever the order given', () => {
    const sorted = ['6.1.0-9-amd64', '6.1.0-47-amd64', '6.1.0-50-amd64', '6.1.0-57-amd64'];
    expect(sortReleases(BOOKWORM)).toEqual(sorted);
    expect(sortReleases([...BOOKWORM].reverse())).toEqual(sorted);
  });
});

describe('releasesOfShard', () => {
  const seven = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'];
  it.each([
    [1, 3, ['r1', 'r4', 'r7']],
    [2, 3, ['r2', 'r5']],
    [3, 3, ['r3', 'r6']],
    [1, 1, seven],
    [7, 7, ['r7']],
    [8, 9, []],
  ])('shard %i/%i of seven releases is %j', (index, count, mine) => {
    expect(releasesOfShard(seven, { index, count })).toEqual(mine);
  });

  it('gives every release to exactly one shard', () => {
    for (const count of [1, 2, 3, 4, 7, 10]) {
      const parts = Array.from({ length: count }, (_, i) => releasesOfShard(seven, { index: i + 1, count }));
      expect(parts.flat().sort()).toEqual(seven);
    }
  });

  it('is the whole list without --shard', () => {
    expect(releasesOfShard(seven, undefined)).toEqual(seven);
  });
});
