import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestKernelConfig } from '../../src/distro/prepare-test-kernel.js';
import {
  missingConfigOptions,
  relocateToolRecords,
  testKernelKey,
} from '../../src/distro/prepare-test-kernel.js';

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

describe('relocateToolRecords', () => {
  it("rewrites tools/' kbuild records (.*.cmd) from the copied tree's path to the copy's, nothing else", async () => {
    const tree = await mkdtemp(join(tmpdir(), 'relocate-'));
    try {
      const from = '/cache/targets/test/base/src';
      const to = '/cache/targets/test/variant/src';
      const record = `cmd_${from}/tools/objtool/check.o := gcc -o ${from}/tools/objtool/check.o check.c\n`;
      await mkdir(join(tree, 'tools/objtool/arch/x86'), { recursive: true });
      await writeFile(join(tree, 'tools/objtool/.check.o.cmd'), record);
      await writeFile(join(tree, 'tools/objtool/arch/x86/.decode.o.cmd'), `deps := ${from}/x.h\n`);
      await writeFile(join(tree, 'tools/objtool/check.c'), `// ${from}\n`);
      await relocateToolRecords(tree, from, to);
      expect(await readFile(join(tree, 'tools/objtool/.check.o.cmd'), 'utf8')).toBe(
        `cmd_${to}/tools/objtool/check.o := gcc -o ${to}/tools/objtool/check.o check.c\n`,
      );
      expect(await readFile(join(tree, 'tools/objtool/arch/x86/.decode.o.cmd'), 'utf8')).toBe(
        `deps := ${to}/x.h\n`,
      );
      expect(await readFile(join(tree, 'tools/objtool/check.c'), 'utf8')).toBe(`// ${from}\n`);
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
  });
});
