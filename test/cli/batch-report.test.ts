import { describe, expect, it } from 'vitest';
import { batchReport, renderVerdictTable } from '../../src/cli/batch-report.js';
import type { ReleaseVerdict } from '../../src/pipeline/build-batch.js';
import type { KpatchBuildResult } from '../../src/pipeline/kpatch-build.js';

const build = (release: string): KpatchBuildResult => ({
  module: `/out/${release}/livepatch-cmdline.ko`,
  name: 'livepatch-cmdline',
  changes: [],
  parents: [],
  targetModules: [],
  targetModuleDependencies: [],
  image: undefined,
  workDir: undefined,
  hunks: [],
  timings: { checks: 1 },
});

const BUILT: ReleaseVerdict = {
  release: '6.1.0-57-amd64',
  verdict: 'built',
  detail: '/out/6.1.0-57-amd64/livepatch-cmdline.ko',
  build: build('6.1.0-57-amd64'),
  ms: 9000,
};
const REJECTED: ReleaseVerdict = {
  release: '6.1.0-47-amd64',
  verdict: 'patch does not apply',
  detail: 'cmdline.patch does not apply:',
  hunks: ['cmdline.patch: fs/proc/cmdline.c: hunk #1 @@ -6,7 +6,8 @@: context mismatch: line 9 differs'],
  ms: 800,
};
const REFUSED: ReleaseVerdict = {
  release: '6.1.0-99-amd64',
  verdict: 'refused',
  detail: 'bookworm does not carry 6.1.0-99-amd64',
  hint: 'releases bookworm carries today: 6.1.0-57-amd64',
  ms: 10,
};
const FAILED: ReleaseVerdict = {
  release: '6.1.0-50-amd64',
  verdict: 'failed',
  detail: 'make failed for fs/proc/cmdline.o',
  logPath: '/tmp/w/build.log',
  ms: 4000,
};

describe('renderVerdictTable', () => {
  it.each([
    [
      'every release built',
      [BUILT],
      undefined,
      [
        'RELEASE         VERDICT  DETAIL',
        '6.1.0-57-amd64  built    /out/6.1.0-57-amd64/livepatch-cmdline.ko',
        '1 of 1 release built',
      ],
    ],
    [
      'one of each verdict, in the order given',
      [REJECTED, FAILED, BUILT, REFUSED],
      undefined,
      [
        'RELEASE         VERDICT               DETAIL',
        '6.1.0-47-amd64  patch does not apply  cmdline.patch: fs/proc/cmdline.c: hunk #1 @@ -6,7 +6,8 @@: context mismatch: line 9 differs',
        '6.1.0-50-amd64  failed                make failed for fs/proc/cmdline.o',
        '                                        log: /tmp/w/build.log',
        '6.1.0-57-amd64  built                 /out/6.1.0-57-amd64/livepatch-cmdline.ko',
        '6.1.0-99-amd64  refused               bookworm does not carry 6.1.0-99-amd64',
        '1 of 4 releases built',
      ],
    ],
    [
      'a patch error without hunk lines shows its message',
      [
        {
          release: REJECTED.release,
          verdict: REJECTED.verdict,
          detail: 'the patch changes include/x.h, not only .c files',
          ms: 1,
        },
      ],
      { index: 2, count: 3 },
      [
        'RELEASE         VERDICT               DETAIL',
        '6.1.0-47-amd64  patch does not apply  the patch changes include/x.h, not only .c files',
        '0 of 1 release built (shard 2/3)',
      ],
    ],
    [
      'an empty shard',
      [],
      { index: 3, count: 3 },
      ['RELEASE  VERDICT  DETAIL', '0 of 0 releases built (shard 3/3)'],
    ],
  ] as const)('%s', (_, verdicts, shard, lines) => {
    expect(renderVerdictTable(verdicts as readonly ReleaseVerdict[], shard)).toBe(`${lines.join('\n')}\n`);
  });
});

describe('batchReport', () => {
  it('has one entry per release, the per-build report only for what was built', () => {
    const report = batchReport({
      verdicts: [BUILT, REFUSED, FAILED],
      batch: ['6.1.0-50-amd64', '6.1.0-57-amd64', '6.1.0-99-amd64', '6.1.0-47-amd64'],
      shard: { index: 1, count: 1 },
      suite: 'bookworm',
    });
    expect(report).toMatchObject({ suite: 'bookworm', built: 1, total: 3, shard: { index: 1, count: 1 } });
    expect(report.releases.map((r) => [r.release, r.verdict])).toEqual([
      ['6.1.0-57-amd64', 'built'],
      ['6.1.0-99-amd64', 'refused'],
      ['6.1.0-50-amd64', 'failed'],
    ]);
    expect(report.releases[0]?.report).toEqual(BUILT.build);
    expect(report.releases[1]).toMatchObject({ hint: REFUSED.hint });
    expect(report.releases[1]).not.toHaveProperty('report');
    expect(report.releases[2]).toMatchObject({ logPath: '/tmp/w/build.log' });
  });
});
