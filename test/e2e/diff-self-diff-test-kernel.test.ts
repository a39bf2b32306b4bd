import { describe, expect, it } from 'vitest';
import { selfDiff, treeObjects } from '../../src/diff/self-diff.js';
import { prepareTestKernel } from '../../src/distro/prepare-test-kernel.js';

describe('self-diff of every object of the test kernel', () => {
  it(
    'reports no change and no error for any object',
    async () => {
      const { buildDir } = await prepareTestKernel();
      const objects = await treeObjects(buildDir);
      expect(objects.length).toBeGreaterThan(600);
      const results = [];
      for (const object of objects) results.push(await selfDiff(buildDir, object));
      const bad = results.filter((r) => r.outcome !== 'no-change' && r.outcome !== 'skipped');
      expect(bad).toEqual([]);
      // Only the 32-bit real-mode boot code is skipped.
      for (const r of results.filter((x) => x.outcome === 'skipped'))
        expect(r.object).toMatch(/^arch\/x86\/(boot|realmode)\//);
    },
    20 * 60_000,
  );
});
