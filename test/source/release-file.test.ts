import { describe, expect, it } from 'vitest';
import { checkRelease, parseRelease } from '../../src/source/release-file.js';

const NOW = Date.parse('2026-12-06T04:00:00Z');
const release = (fields: string) =>
  parseRelease(
    `Origin: Debian\nSuite: testing\nCodename: forky\n${fields}Acquire-By-Hash: yes\nSHA256:\n ${'a'.repeat(64)} 10 main/binary-amd64/Packages.xz\n`,
    'dists/forky/InRelease',
  );

describe('Release files', () => {
  it('reads suite, dates, by-hash and the SHA256 list', () => {
    const r = release('Date: Fri, 30 Oct 2026 08:08:01 UTC\nValid-Until: Fri, 06 Nov 2026 08:08:01 UTC\n');
    expect(r).toMatchObject({ suite: 'testing', codename: 'forky', acquireByHash: true });
    expect(r.validUntil).toBe(Date.parse('2026-11-06T08:08:01Z'));
    expect(r.files.get('main/binary-amd64/Packages.xz')).toEqual({
      name: 'main/binary-amd64/Packages.xz',
      size: 10,
      sha256: 'a'.repeat(64),
    });
  });

  it.each([
    [
      'valid, by codename',
      'forky',
      'Date: Sat, 05 Dec 2026 08:00:00 UTC\nValid-Until: Sat, 12 Dec 2026 08:00:00 UTC\n',
      {},
      undefined,
    ],
    ['valid, by suite name', 'testing', 'Date: Sat, 05 Dec 2026 08:00:00 UTC\n', {}, undefined],
    ['no Valid-Until (a stable release)', 'forky', 'Date: Sat, 11 Jul 2026 10:16:37 UTC\n', {}, undefined],
    [
      'expired',
      'forky',
      'Date: Fri, 30 Oct 2026 08:08:01 UTC\nValid-Until: Fri, 06 Nov 2026 08:08:01 UTC\n',
      {},
      /expired on 2026-11-06T08:08:01\.000Z/,
    ],
    [
      'expired, accepted',
      'forky',
      'Date: Fri, 30 Oct 2026 08:08:01 UTC\nValid-Until: Fri, 06 Nov 2026 08:08:01 UTC\n',
      { ignoreValidUntil: true },
      undefined,
    ],
    ['from the future', 'forky', 'Date: Sun, 06 Dec 2026 05:00:00 UTC\n', {}, /in the future/],
    [
      'of another suite',
      'trixie',
      'Date: Sat, 05 Dec 2026 08:00:00 UTC\n',
      {},
      /is for suite "forky", not "trixie"/,
    ],
  ])('%s', (_, suite, fields, options, refusal) => {
    const check = () => checkRelease(release(fields), suite, 'dists/x/InRelease', { now: NOW, ...options });
    if (refusal) expect(check).toThrow(refusal);
    else expect(check).not.toThrow();
  });
});
