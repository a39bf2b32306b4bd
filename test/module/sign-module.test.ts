import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  checkSigningKey,
  hasModuleSignature,
  MODULE_SIGNATURE_MAGIC,
  moduleSigHash,
  signModule,
} from '../../src/module/sign-module.js';

describe('moduleSigHash', () => {
  it.each([
    ['signing kernel', 'CONFIG_MODULE_SIG=y\nCONFIG_MODULE_SIG_HASH="sha256"\n', 'sha256'],
    ['sha512', 'CONFIG_MODULE_SIG_HASH="sha512"\nCONFIG_MODULE_SIG=y\n', 'sha512'],
    ['no MODULE_SIG', '# CONFIG_MODULE_SIG is not set\nCONFIG_MODULE_SIG_HASH="sha256"\n', undefined],
    ['no hash', 'CONFIG_MODULE_SIG=y\n', undefined],
    ['empty', '', undefined],
  ])('%s', (_, config, hash) => {
    expect(moduleSigHash(config)).toBe(hash);
  });
});

describe('module files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sign-module-'));
  });

  it.each([
    ['signed', `\x7fELF...${'\0'.repeat(40)}${MODULE_SIGNATURE_MAGIC}`, true],
    ['unsigned', '\x7fELF...plain module', false],
    ['marker not at the end', `${MODULE_SIGNATURE_MAGIC}trailing`, false],
    ['shorter than the marker', 'x', false],
  ])('hasModuleSignature: %s', async (name, content, signed) => {
    const file = join(dir, `${name}.ko`);
    await writeFile(file, content, 'latin1');
    expect(await hasModuleSignature(file)).toBe(signed);
  });

  it('checkSigningKey names the missing file', async () => {
    const cert = join(dir, 'cert.pem');
    await writeFile(cert, 'x');
    await expect(checkSigningKey({ key: join(dir, 'nokey.pem'), cert })).rejects.toThrow(
      /--sign-key: .*nokey\.pem does not exist/,
    );
    await expect(checkSigningKey({ key: cert, cert: join(dir, 'nocert.pem') })).rejects.toThrow(
      /--sign-cert: .*nocert\.pem does not exist/,
    );
    await expect(checkSigningKey({ key: 'pkcs11:token=farm', cert })).resolves.toBeUndefined();
  });

  it('signModule refuses a target that does not sign modules, naming its .config', async () => {
    const tree = join(dir, 'tree');
    await writeFile(join(dir, 'm.ko'), 'module');
    await mkdir(tree, { recursive: true });
    await writeFile(join(tree, '.config'), '# CONFIG_MODULE_SIG is not set\n');
    const error = await signModule(join(dir, 'm.ko'), tree, { key: 'k', cert: 'c' }).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain(`${tree}/.config: the target kernel has no CONFIG_MODULE_SIG`);
  });
});
