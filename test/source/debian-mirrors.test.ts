import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { debianArchiveConfig, hostDebianMirrors } from '../../src/source/debian-mirrors.js';
import { tempDir } from './helpers.js';

async function aptEtc(files: Record<string, string>): Promise<string> {
  const etc = await tempDir();
  await mkdir(join(etc, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(etc, name), text);
  return etc;
}

const DEB822 = `Types: deb
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main
`;

describe('Debian mirrors', () => {
  it.each([
    [
      'deb822 .sources',
      { 'sources.list.d/debian.sources': DEB822 },
      'http://mirror.example/debian',
      'http://security.example/debian-security',
    ],
    [
      'one-line .list, third-party repos ignored',
      {
        'sources.list':
          '# comment\ndeb [arch=amd64] https://repo.example/apt stable-tools main\ndeb http://ftp.de.debian.org/debian trixie main\ndeb http://ftp.de.debian.org/debian-security trixie-security main\n',
      },
      'http://ftp.de.debian.org/debian',
      'http://ftp.de.debian.org/debian-security',
    ],
    ['nothing configured', {}, undefined, undefined],
  ])('reads the host mirrors from %s', async (_, files, mirror, securityMirror) => {
    const etc = await aptEtc(files);
    expect(hostDebianMirrors(etc)).toEqual({
      ...(mirror ? { mirror } : {}),
      ...(securityMirror ? { securityMirror } : {}),
    });
  });

  it('prefers the environment, then the host, then deb.debian.org', async () => {
    const etc = await aptEtc({ 'sources.list.d/debian.sources': DEB822 });
    expect(debianArchiveConfig({}, etc)).toMatchObject({
      mirror: 'http://mirror.example/debian',
      securityMirror: 'http://security.example/debian-security',
      keyrings: ['/usr/share/keyrings/debian-archive-keyring.gpg'],
      ignoreValidUntil: false,
    });
    const env = {
      KPATCH_DEBIAN_MIRROR: 'http://127.0.0.1:1/debian/',
      KPATCH_DEBIAN_KEYRING: '/a.gpg:/b.gpg',
      KPATCH_DEBIAN_IGNORE_VALID_UNTIL: '1',
    };
    expect(debianArchiveConfig(env, etc)).toMatchObject({
      mirror: 'http://127.0.0.1:1/debian',
      securityMirror: 'http://security.example/debian-security',
      keyrings: ['/a.gpg', '/b.gpg'],
      ignoreValidUntil: true,
    });
    expect(debianArchiveConfig({}, await aptEtc({}))).toMatchObject({
      mirror: 'http://deb.debian.org/debian',
      securityMirror: 'http://deb.debian.org/debian-security',
    });
  });
});
