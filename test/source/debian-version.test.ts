import { describe, expect, it } from 'vitest';
import { compareDebianVersions } from '../../src/source/debian-version.js';

describe('compareDebianVersions (dpkg --compare-versions)', () => {
  it.each([
    ['6.12.118-1', '6.12.117-1', 1],
    ['6.12.115-2', '6.12.115-1', 1],
    ['6.12.9-1', '6.12.10-1', -1],
    ['6.1.192-3', '6.1.192-3', 0],
    ['1:1.0-1', '2.0-1', 1],
    ['1.0~rc1-1', '1.0-1', -1],
    ['1.0-1', '1.0+b1-1', -1],
    ['1.0a-1', '1.0+-1', -1],
    ['1.0-1~bpo12+1', '1.0-1', -1],
    ['7.2.12-1', '6.12.118-1', 1],
  ])('%s vs %s → %i', (a, b, sign) => {
    expect(Math.sign(compareDebianVersions(a, b))).toBe(sign);
    expect(Math.sign(compareDebianVersions(b, a))).toBe(sign === 0 ? 0 : -sign);
  });
});
