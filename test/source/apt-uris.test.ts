import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SourceError } from '../../src/errors.js';
import { aptErrorFrom, aptPackageUris, parseAptUris } from '../../src/source/apt-uris.js';
import { tempDir } from './helpers.js';

const KBUILD =
  "'http://deb.debian.org/debian-security/pool/updates/main/l/linux/linux-kbuild-6.1_6.1.192-2_amd64.deb' linux-kbuild-6.1_6.1.192-2_amd64.deb 1568188 SHA256:7e852381f1c455a439230ea3261e3669f2307afdbed57db0fc08ed8ffa689f60";

describe('parseAptUris', () => {
  it.each([
    [
      'SHA256 (Debian today)',
      KBUILD,
      {
        url: 'http://deb.debian.org/debian-security/pool/updates/main/l/linux/linux-kbuild-6.1_6.1.192-2_amd64.deb',
        fileName: 'linux-kbuild-6.1_6.1.192-2_amd64.deb',
        size: 1568188,
        sha256: '7e852381f1c455a439230ea3261e3669f2307afdbed57db0fc08ed8ffa689f60',
        hash: {
          algorithm: 'sha256',
          digest: '7e852381f1c455a439230ea3261e3669f2307afdbed57db0fc08ed8ffa689f60',
        },
        package: 'linux-kbuild-6.1',
        version: '6.1.192-2',
        architecture: 'amd64',
      },
    ],
    [
      'MD5Sum and an epoch',
      "'http://deb.debian.org/debian/pool/main/a/automake-1.16/automake_1%3a1.16.5-1.3_all.deb' automake_1%3a1.16.5-1.3_all.deb 823720 MD5Sum:0123456789ABCDEF0123456789abcdef",
      {
        fileName: 'automake_1%3a1.16.5-1.3_all.deb',
        sha256: undefined,
        hash: { algorithm: 'md5', digest: '0123456789abcdef0123456789abcdef' },
        package: 'automake',
        version: '1:1.16.5-1.3',
        architecture: 'all',
      },
    ],
    [
      'SHA512',
      `'http://archive.ubuntu.com/ubuntu/pool/main/l/linux/x_1_amd64.deb' x_1_amd64.deb 10 SHA512:${'ab'.repeat(64)}`,
      { sha256: undefined, hash: { algorithm: 'sha512', digest: 'ab'.repeat(64) } },
    ],
    [
      'no hash at all',
      "'file:/srv/repo/x_1_all.deb' x_1_all.deb 42",
      { size: 42, sha256: undefined, hash: undefined },
    ],
  ])('%s', (_name, line, expected) => {
    const [uri] = parseAptUris(`${line}\n`);
    expect(uri).toMatchObject(expected);
  });

  it('ignores notes and blank lines, keeps order', () => {
    const text = `Note, selecting 'linux-kbuild-6.1' for regex\n\n${KBUILD}\n${KBUILD.replaceAll('kbuild', 'headers')}\n`;
    expect(parseAptUris(text).map((u) => u.package)).toEqual(['linux-kbuild-6.1', 'linux-headers-6.1']);
  });

  it.each([
    ["'http://x/y.deb' y.deb notanumber SHA256:00", /cannot parse/],
    ["'http://x/y.deb' ../y.deb 1 SHA256:00", /unsafe file name/],
    ["'http://x/y.deb' y.deb 1 CRC32:00", /unknown hash type "CRC32"/],
  ])('rejects %s', (line, message) => {
    expect(() => parseAptUris(line)).toThrow(message);
  });
});

describe('apt errors', () => {
  it('names the package apt cannot locate, with a hint to update', () => {
    const error = aptErrorFrom('E: Unable to locate package linux-kbuild-9.9\n', ['linux-kbuild-9.9']);
    expect(error).toBeInstanceOf(SourceError);
    expect(error.message).toBe('apt cannot find package linux-kbuild-9.9');
    expect(error.hint).toMatch(/apt-get update/);
    expect(error.hint).toMatch(/release/);
  });

  it('explains a virtual package', () => {
    const error = aptErrorFrom(
      "E: Can't select candidate version from package linux-headers as it has no candidate\n",
      ['linux-headers'],
    );
    expect(error.message).toContain('no installable version of linux-headers');
  });

  /** A stand-in for apt-get that prints what we tell it. */
  async function fakeAptGet(stdout: string, stderr: string, code: number): Promise<string> {
    const dir = await tempDir();
    const script = join(dir, 'apt-get');
    await writeFile(join(dir, 'out'), stdout);
    await writeFile(join(dir, 'err'), stderr);
    await writeFile(join(dir, 'args'), '');
    await writeFile(
      script,
      `#!/bin/sh\necho "$@" > ${dir}/args\ncat ${dir}/out\ncat ${dir}/err >&2\nexit ${code}\n`,
    );
    await chmod(script, 0o755);
    return script;
  }

  it('aptPackageUris runs apt-get download --print-uris and parses it', async () => {
    const aptGet = await fakeAptGet(`${KBUILD}\n`, '', 0);
    const uris = await aptPackageUris(['linux-kbuild-6.1'], { aptGet });
    expect(uris).toHaveLength(1);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(join(aptGet, '../args'), 'utf8')).toBe('download --print-uris linux-kbuild-6.1\n');
  });

  it('aptPackageUris turns "Unable to locate package" into SourceError naming it', async () => {
    const aptGet = await fakeAptGet(`${KBUILD}\n`, 'E: Unable to locate package nosuch-pkg\n', 100);
    const error = await aptPackageUris(['linux-kbuild-6.1', 'nosuch-pkg'], { aptGet }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).message).toContain('nosuch-pkg');
    expect((error as SourceError).hint).toMatch(/apt-get update/);
  });

  it('refuses names that are not package names (no option injection)', async () => {
    await expect(aptPackageUris(['-o=Dir::Etc=/tmp'])).rejects.toThrow(/not a valid Debian package name/);
    await expect(aptPackageUris(['Linux'])).rejects.toThrow(SourceError);
  });

  it('explains a missing apt-get', async () => {
    const error = await aptPackageUris(['x'], { aptGet: '/nonexistent/apt-get' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).message).toMatch(/cannot run \/nonexistent\/apt-get: not installed/);
    expect((error as SourceError).hint).toMatch(/Debian or Ubuntu/);
  });
});
