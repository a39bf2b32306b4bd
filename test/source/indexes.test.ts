import { describe, expect, it } from 'vitest';
import { SourceError } from '../../src/errors.js';
import { parseReleaseFile } from '../../src/source/apt-index.js';
import { parseDeb822, stripPgpArmor } from '../../src/source/deb822.js';
import { parseDsc } from '../../src/source/dsc.js';
import { findPrimaryPackages, parseRepomd } from '../../src/source/repodata.js';

const SHA = 'a'.repeat(64);

describe('deb822 and .dsc', () => {
  const signed = [
    '-----BEGIN PGP SIGNED MESSAGE-----',
    'Hash: SHA512',
    '',
    'Format: 1.0',
    'Source: linux',
    'Version: 5.15.0-91.101',
    'Checksums-Sha256:',
    ` ${SHA} 10 linux_5.15.0.orig.tar.gz`,
    ` ${'b'.repeat(64)} 20 linux_5.15.0-91.101.diff.gz`,
    '- -dash-escaped: line',
    '',
    '-----BEGIN PGP SIGNATURE-----',
    'xyz',
    '-----END PGP SIGNATURE-----',
  ].join('\n');

  it('reads a clearsigned .dsc (signature not checked) with its SHA256 list', () => {
    expect(stripPgpArmor(signed)).toContain('\n-dash-escaped: line');
    expect(parseDsc(signed, 'x.dsc')).toEqual({
      source: 'linux',
      version: '5.15.0-91.101',
      format: '1.0',
      files: [
        { name: 'linux_5.15.0.orig.tar.gz', size: 10, sha256: SHA },
        { name: 'linux_5.15.0-91.101.diff.gz', size: 20, sha256: 'b'.repeat(64) },
      ],
    });
  });

  it.each([
    [
      'a file name with a slash',
      `Source: x\nVersion: 1\nChecksums-Sha256:\n ${SHA} 1 ../evil.tar.gz\n`,
      /bad Checksums-Sha256 line/,
    ],
    [
      'a short digest',
      'Source: x\nVersion: 1\nChecksums-Sha256:\n abc 1 x.tar.gz\n',
      /bad Checksums-Sha256 line/,
    ],
    ['no SHA256 list', 'Source: x\nVersion: 1\nFiles:\n 0123 1 x.tar.gz\n', /no Checksums-Sha256/],
    ['no Version', `Source: x\nChecksums-Sha256:\n ${SHA} 1 x.tar.gz\n`, /no Version field/],
  ])('refuses a .dsc with %s', (_name, text, message) => {
    expect(() => parseDsc(text, 'x.dsc')).toThrow(SourceError);
    expect(() => parseDsc(text, 'x.dsc')).toThrow(message);
  });

  it('splits paragraphs, case-insensitive fields, continuation lines', () => {
    const [a, b] = parseDeb822('Package: a\nDescription: one\n two\n\n\npackage: b\n', 'Packages');
    expect(a?.field('package')).toBe('a');
    expect(a?.field('DESCRIPTION')).toBe('one\ntwo');
    expect(b?.field('Package')).toBe('b');
  });

  it('reads the SHA256 list of a Release file, with paths', () => {
    const files = parseReleaseFile(
      `Suite: jammy\nSHA256:\n ${SHA} 123 main/binary-amd64/Packages.xz\n`,
      'InRelease',
    );
    expect(files.get('main/binary-amd64/Packages.xz')).toEqual({
      name: 'main/binary-amd64/Packages.xz',
      size: 123,
      sha256: SHA,
    });
    expect(() => parseReleaseFile(`SHA256:\n ${SHA} 1 ../../x\n`, 'InRelease')).toThrow(/bad SHA256 line/);
  });
});

describe('repodata', () => {
  const repomd = `<?xml version="1.0"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo">
  <data type="filelists"><checksum type="sha256">${'c'.repeat(64)}</checksum><location href="repodata/f.xml.gz"/></data>
  <data type="primary">
    <checksum type="sha256">${SHA}</checksum>
    <open-checksum type="sha256">${'d'.repeat(64)}</open-checksum>
    <location href="repodata/${SHA}-primary.xml.gz"/>
    <size>1234</size>
  </data>
</repomd>`;

  it('finds the primary metadata and its checksum in repomd.xml', () => {
    expect(parseRepomd(repomd, 'repomd.xml')).toEqual({
      href: `repodata/${SHA}-primary.xml.gz`,
      sha256: SHA,
      size: 1234,
    });
    expect(() => parseRepomd(repomd.replace('type="primary"', 'type="other"'), 'repomd.xml')).toThrow(
      /no primary metadata/,
    );
  });

  const pkg = (name: string, arch: string, extra = '') => `<package type="rpm">
  <name>${name}</name><arch>${arch}</arch><version epoch="0" ver="5.14.0" rel="362.el9"/>
  <checksum type="sha256" pkgid="YES">${SHA}</checksum>
  <size package="4242" installed="1" archive="2"/>
  <location ${extra}href="Packages/k/${name}-5.14.0-362.el9.${arch}.rpm"/>
</package>`;

  it('selects packages by name and arch, with URL, size and SHA256', () => {
    const xml = `<metadata>${pkg('kernel-devel', 'x86_64')}${pkg('bash', 'x86_64')}${pkg('kernel-core', 'x86_64', 'xml:base="http://other/repo/" ')}</metadata>`;
    const found = findPrimaryPackages(
      xml,
      'http://m/9-stream/AppStream/x86_64/os/',
      (n) => n.startsWith('kernel'),
      'primary',
    );
    expect(found.map((p) => [p.name, p.version, p.release, p.url, p.size, p.sha256])).toEqual([
      [
        'kernel-devel',
        '5.14.0',
        '362.el9',
        'http://m/9-stream/AppStream/x86_64/os/Packages/k/kernel-devel-5.14.0-362.el9.x86_64.rpm',
        4242,
        SHA,
      ],
      [
        'kernel-core',
        '5.14.0',
        '362.el9',
        'http://other/repo/Packages/k/kernel-core-5.14.0-362.el9.x86_64.rpm',
        4242,
        SHA,
      ],
    ]);
  });

  it('refuses a selected package without a sha256 checksum', () => {
    const xml = pkg('kernel', 'src').replace('type="sha256"', 'type="sha1"');
    expect(() => findPrimaryPackages(xml, 'http://m/', () => true, 'primary')).toThrow(
      /has no sha256 checksum/,
    );
  });
});
