import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareTestKernel } from '../../src/distro/prepare-test-kernel.js';
import type { TargetKernel } from '../../src/distro/target.js';
import { hasModuleSignature } from '../../src/module/sign-module.js';
import { verifyLivepatch } from '../../src/verify/verify-livepatch.js';
import { EXAMPLES } from './support/paths.js';
import { runBin } from './support/run-bin.js';

// The test kernel's signing variant: the same source and config plus MODULE_SIG and MODULE_SIG_FORCE, so
// it refuses every module not signed by the key it was built with (kbuild generates that key with openssl
// into certs/signing_key.pem and builds it into the kernel's trusted keyring). Built once, cached.
// CRYPTO_SHA256: Debian's module loader also looks a module's sha256 up in the hash blocklist, and fails
// with ENOENT without it (signatures themselves use the config's default, sha512).
const SIGNING_TEST_KERNEL = ['MODULE_SIG', 'MODULE_SIG_FORCE', 'CRYPTO_SHA256'];

const CHECK = 'grep -q " livepatch=1$" /proc/cmdline';

describe('kpatch-build --sign-key/--sign-cert on a kernel that enforces module signatures', () => {
  let kernel: TargetKernel;
  let tree: string;
  let work: string;

  const build = (out: string, extra: string[] = []) =>
    runBin('kpatch-build', ['-s', tree, '-o', out, ...extra, `${EXAMPLES}cmdline.patch`]);
  const verify = (ko: string) =>
    verifyLivepatch({ kernel: kernel.image, modules: [ko], checks: [CHECK], unload: true });

  beforeAll(async () => {
    kernel = await prepareTestKernel({ extraEnable: SIGNING_TEST_KERNEL });
    tree = kernel.sourceDir ?? '';
    work = await mkdtemp(join(tmpdir(), 'e2e-sign-'));
  });

  it('signs the module with the trusted key: it loads and changes /proc/cmdline; signing is reproducible', async () => {
    const key = ['--sign-key', join(tree, 'certs/signing_key.pem')];
    const cert = ['--sign-cert', join(tree, 'certs/signing_key.x509')];
    const [first, second] = [join(work, 'signed-1'), join(work, 'signed-2')];
    const result = await build(first, [...key, ...cert]);
    expect(result.stderr).toContain(`SUCCESS: ${first}/livepatch-cmdline.ko`);
    expect(result.exitCode).toBe(0);
    const ko = join(first, 'livepatch-cmdline.ko');
    expect(await hasModuleSignature(ko)).toBe(true);
    const verified = await verify(ko);
    expect(verified.steps.filter((s) => !s.ok)).toEqual([]);
    expect(verified.ok).toBe(true);
    expect((await build(second, [...key, ...cert])).exitCode).toBe(0);
    expect(await readFile(join(second, 'livepatch-cmdline.ko'))).toEqual(await readFile(ko));
  });

  it.each([
    ['unsigned', /Loading of unsigned module is rejected/, async () => [] as string[]],
    [
      'signed with a key the kernel does not trust',
      /Loading of module with unavailable key is rejected/,
      async () => {
        const pem = join(work, 'untrusted.pem');
        await execa('openssl', [
          'req',
          '-new',
          '-x509',
          '-nodes',
          '-newkey',
          'rsa:2048',
          '-subj',
          '/CN=untrusted kpatch-build test key/',
          '-days',
          '1',
          '-keyout',
          pem,
          '-out',
          pem,
        ]);
        return ['--sign-key', pem, '--sign-cert', pem];
      },
    ],
  ])('a module %s is refused by the kernel', async (label, reason, flags) => {
    const out = join(work, label.replaceAll(' ', '-'));
    const result = await build(out, await flags());
    expect(result.exitCode).toBe(0);
    const verified = await verify(join(out, 'livepatch-cmdline.ko'));
    const insmod = verified.steps.find((s) => s.name === 'insmod livepatch_cmdline');
    expect(insmod?.ok).toBe(false);
    expect(insmod?.output.join('\n')).toMatch(/Required key not available|Key was rejected/);
    expect(verified.console).toMatch(reason);
    expect(verified.ok).toBe(false);
  });
});
