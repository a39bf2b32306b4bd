import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { debianSealedFunctions } from '../../src/distro/debian-sealed-functions.js';

describe('debianSealedFunctions', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpatch-sealed-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // The image does not exist: any attempt to boot it would fail the test.
  const target = (config: string) => ({
    config,
    image: join(dir, 'no-such-vmlinuz'),
    symbols: { format: 'kallsyms' as const, path: join(dir, 'kallsyms'), origin: 'test' },
  });

  it.each([
    ['# CONFIG_X86_KERNEL_IBT is not set\n'],
    ['CONFIG_X86_KERNEL_IBT=m\nCONFIG_X86_KERNEL_IBT_X=y\n'],
  ])('seals nothing (no boot) for a kernel without IBT: %j', async (text) => {
    await writeFile(join(dir, 'config'), text);
    expect(await debianSealedFunctions(target(join(dir, 'config')))).toBeUndefined();
  });

  it('reads the list cached beside kallsyms instead of booting again', async () => {
    await writeFile(join(dir, 'config'), 'CONFIG_FOO=y\nCONFIG_X86_KERNEL_IBT=y\n');
    await writeFile(join(dir, 'sealed.json'), JSON.stringify(['calibrate_delay', 'do_one_initcall']));
    const sealed = await debianSealedFunctions(target(join(dir, 'config')));
    expect(sealed && [...sealed]).toEqual(['calibrate_delay', 'do_one_initcall']);
  });
});
