import { describe, expect, it } from 'vitest';
import {
  BuildError,
  DistroError,
  NoChangeError,
  PatchError,
  UnsupportedChangeError,
  UsageError,
  VerifyFailedError,
} from '../../src/errors.js';
import { releaseOutputDir, verdictOfError } from '../../src/pipeline/build-batch.js';

describe('verdictOfError', () => {
  it.each([
    [
      new PatchError('x.patch does not apply:\n  x.patch: fs/f.c: hunk #2 @@ -1 +1 @@: context mismatch\n', {
        hint: 'refresh',
      }),
      {
        verdict: 'patch does not apply',
        detail: 'x.patch does not apply:',
        hunks: ['x.patch: fs/f.c: hunk #2 @@ -1 +1 @@: context mismatch'],
        hint: 'refresh',
      },
    ],
    [
      new DistroError('bookworm does not carry 6.1.0-99-amd64'),
      { verdict: 'refused', detail: 'bookworm does not carry 6.1.0-99-amd64' },
    ],
    [new UnsupportedChangeError('changes a data section'), { verdict: 'refused' }],
    [new NoChangeError('no functional change'), { verdict: 'refused' }],
    [new UsageError('"x" is not a Debian kernel release name'), { verdict: 'refused' }],
    [
      new BuildError('make failed', { logPath: '/w/build.log' }),
      { verdict: 'failed', logPath: '/w/build.log' },
    ],
    [new VerifyFailedError('loaded: no'), { verdict: 'failed' }],
    [new TypeError('boom'), { verdict: 'failed', detail: 'internal error: boom' }],
  ])('%s is %j', (error, expected) => {
    expect(verdictOfError('6.1.0-57-amd64', error, 5)).toMatchObject({
      release: '6.1.0-57-amd64',
      ms: 5,
      ...expected,
    });
  });

  it('keeps no hunk list or log when the error has none', () => {
    const v = verdictOfError('r', new PatchError('the patch reaches 40 objects'), 1);
    expect(v).not.toHaveProperty('hunks');
    expect(verdictOfError('r', new BuildError('make failed'), 1)).not.toHaveProperty('logPath');
  });
});

describe('releaseOutputDir', () => {
  it('puts each release in its own directory of the output', () => {
    expect(releaseOutputDir('/out', '6.1.0-57-amd64')).toBe('/out/6.1.0-57-amd64');
  });
});
