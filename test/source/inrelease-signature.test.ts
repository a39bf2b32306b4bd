import { describe, expect, it } from 'vitest';
import { summariseGpgvStatus } from '../../src/source/inrelease-signature.js';

const FPR = 'B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8';
const good = (hash: string) =>
  `[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 78DBA3BC47EF2265 Debian\n[GNUPG:] VALIDSIG ${FPR} 2026-10-30 1793347769 0 4 0 1 ${hash} 01 ${FPR}\n`;

describe('summariseGpgvStatus', () => {
  it.each([
    ['a good SHA512 signature', good('10'), [FPR], [], []],
    ['a SHA1 signature', good('2'), [], [], [/weak hash \(id 2\)/]],
    [
      'a missing key next to a good one',
      `[GNUPG:] NEWSIG\n[GNUPG:] ERRSIG 1111 1 10 01 1793347769 9 -\n[GNUPG:] NO_PUBKEY 1111\n${good('10')}`,
      [FPR],
      [],
      [/1111, which is not in the keyring/],
    ],
    [
      'a bad signature',
      '[GNUPG:] NEWSIG\n[GNUPG:] BADSIG 2222 Debian\n',
      [],
      [/bad signature by key 2222/],
      [],
    ],
    [
      'an expired key',
      `[GNUPG:] NEWSIG\n[GNUPG:] EXPKEYSIG 3333 Old\n[GNUPG:] VALIDSIG ${FPR} 2026-10-30 1 0 4 0 1 10 01 ${FPR}\n`,
      [],
      [],
      [/expired key 3333/],
    ],
  ])('%s', (_, status, signers, bad, problems) => {
    const summary = summariseGpgvStatus(status);
    expect(summary.good).toEqual(signers);
    expect(summary.bad).toEqual(bad.map((re) => expect.stringMatching(re)));
    expect(summary.problems).toEqual(problems.map((re) => expect.stringMatching(re)));
  });
});
