import { describe, expect, it } from 'vitest';
import type { TestKernelConfig } from '../../src/distro/prepare-test-kernel.js';
import { missingConfigOptions, testKernelKey } from '../../src/distro/prepare-test-kernel.js';

const config: TestKernelConfig = {
  sourcePackage: 'linux-source-6.1',
  sourceTarball: 'usr/src/linux-source-6.1.tar.xz',
  base: 'tinyconfig',
  enable: ['LIVEPATCH', 'MODULES'],
  module: ['SAMPLE_LIVEPATCH'],
  targets: ['bzImage'],
};

describe('missingConfigOptions', () => {
  it('lists options that olddefconfig dropped or set differently', () => {
    const dotConfig = 'CONFIG_MODULES=y\n# CONFIG_LIVEPATCH is not set\nCONFIG_SAMPLE_LIVEPATCH=y\n';
    expect(missingConfigOptions(dotConfig, config)).toEqual(['LIVEPATCH', 'SAMPLE_LIVEPATCH']);
  });
  it('is empty when all are set', () => {
    const dotConfig = 'CONFIG_MODULES=y\nCONFIG_LIVEPATCH=y\nCONFIG_SAMPLE_LIVEPATCH=m\n';
    expect(missingConfigOptions(dotConfig, config)).toEqual([]);
  });
});

describe('testKernelKey', () => {
  const base = { sourceSha256: 'a'.repeat(64), config, compiler: 'gcc (Debian 12.2.0-14) 12.2.0' };
  it('is stable for the same inputs', () => {
    expect(testKernelKey(base)).toBe(testKernelKey({ ...base, config: { ...config } }));
  });
  it.each([
    ['source', { ...base, sourceSha256: 'b'.repeat(64) }],
    ['config', { ...base, config: { ...config, enable: [...config.enable, 'FUTEX'] } }],
    ['compiler', { ...base, compiler: 'gcc 13' }],
    ['extraversion', { ...base, extraversion: '-300.fc39.x86_64' }],
  ])('changes when the %s changes', (_, changed) => {
    expect(testKernelKey(changed)).not.toBe(testKernelKey(base));
  });
});
