import { describe, expect, it } from 'vitest';
import { debianLayout } from '../../src/distro/debian-layout.js';
import { parseLatestRelease } from '../../src/distro/resolve-debian-release.js';
import { DistroError } from '../../src/errors.js';

describe('debianLayout', () => {
  it('names the packages and paths of a release from distro/debian.json', () => {
    const layout = debianLayout('6.1.0-56-amd64');
    expect(layout.imagePackage).toBe('linux-image-6.1.0-56-amd64-unsigned');
    expect(layout.headerPackages).toEqual([
      'linux-headers-6.1.0-56-amd64',
      'linux-headers-6.1.0-56-common',
      'linux-kbuild-6.1',
    ]);
    expect(layout.sourcePackage).toBe('linux-source-6.1');
    expect(layout.paths.image).toBe('boot/vmlinuz-6.1.0-56-amd64');
    expect(layout.paths.headers).toBe('usr/src/linux-headers-6.1.0-56-amd64');
    expect(layout.kernelSeries).toBe('6.1');
  });

  it.each(['6.1', 'linux-6.1.0-56-amd64', '6.1.0-56'])(
    'refuses %s with a hint about release names',
    (release) => {
      expect(() => debianLayout(release)).toThrow(DistroError);
      expect(() => debianLayout(release)).toThrow(/not a Debian kernel release/);
    },
  );
});

describe('parseLatestRelease', () => {
  const pattern = '^linux-image-(\\d+\\.\\d+\\.\\d+-\\d+-amd64)$';
  it('finds the release the metapackage depends on', () => {
    const out = 'linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n';
    expect(parseLatestRelease(out, 'linux-image-amd64', pattern)).toBe('6.1.0-56-amd64');
  });
  it('skips dependencies that are not kernel images', () => {
    const out = 'linux-image-amd64\n  Depends: something-else\n  Depends: linux-image-6.1.0-57-amd64\n';
    expect(parseLatestRelease(out, 'linux-image-amd64', pattern)).toBe('6.1.0-57-amd64');
  });
  it('fails with a hint when there is none', () => {
    let error: unknown;
    try {
      parseLatestRelease('linux-image-amd64\n', 'linux-image-amd64', pattern);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DistroError);
    expect((error as DistroError).message).toMatch(/names no kernel image package/);
    expect((error as DistroError).hint).toMatch(/apt-get update/);
  });
});
