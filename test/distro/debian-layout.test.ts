import { describe, expect, it } from 'vitest';
import { debianLayout, suiteOfRelease } from '../../src/distro/debian-layout.js';
import { DistroError } from '../../src/errors.js';

describe('debianLayout', () => {
  it.each([
    [
      '6.1.0-56-amd64',
      'bookworm',
      'linux-image-6.1.0-56-amd64-unsigned',
      ['linux-headers-6.1.0-56-amd64', 'linux-headers-6.1.0-56-common', 'linux-kbuild-6.1'],
      'linux-source-6.1',
      'lib/modules/6.1.0-56-amd64',
    ],
    [
      '6.1.0-57-rt-amd64',
      'bookworm',
      'linux-image-6.1.0-57-rt-amd64-unsigned',
      ['linux-headers-6.1.0-57-rt-amd64', 'linux-headers-6.1.0-57-common-rt', 'linux-kbuild-6.1'],
      'linux-source-6.1',
      'lib/modules/6.1.0-57-rt-amd64',
    ],
    [
      '6.12.118+deb13-amd64',
      'trixie',
      'linux-image-6.12.118+deb13-amd64-unsigned',
      [
        'linux-headers-6.12.118+deb13-amd64',
        'linux-headers-6.12.118+deb13-common',
        'linux-kbuild-6.12.118+deb13',
      ],
      'linux-source-6.12',
      'usr/lib/modules/6.12.118+deb13-amd64',
    ],
    [
      '6.12.115+deb13.1-cloud-amd64',
      'trixie',
      'linux-image-6.12.115+deb13.1-cloud-amd64-unsigned',
      [
        'linux-headers-6.12.115+deb13.1-cloud-amd64',
        'linux-headers-6.12.115+deb13.1-common',
        'linux-kbuild-6.12.115+deb13.1',
      ],
      'linux-source-6.12',
      'usr/lib/modules/6.12.115+deb13.1-cloud-amd64',
    ],
    [
      '7.2.12+deb14-amd64',
      'forky',
      'linux-binary-unsigned-7.2.12+deb14-amd64',
      ['linux-headers-7.2.12+deb14-amd64', 'linux-headers-7.2.12+deb14-common', 'linux-kbuild-7.2.12+deb14'],
      'linux-source-7.2',
      'usr/lib/modules/7.2.12+deb14-amd64',
    ],
  ])(
    '%s: %s packages and paths from distro/debian.json',
    (release, suite, image, headers, source, modules) => {
      const layout = debianLayout(release);
      expect(layout.suite).toBe(suite);
      expect(layout.imagePackage).toBe(image);
      expect(layout.headerPackages).toEqual(headers);
      expect(layout.sourcePackage).toBe(source);
      expect(layout.paths.modules).toBe(modules);
      expect(layout.paths.headers).toBe(`usr/src/linux-headers-${release}`);
    },
  );

  // Up to trixie one -unsigned package carries vmlinuz, config and modules; forky split it in three,
  // with the kernel and its config under usr/lib/modules/<release>.
  it.each([
    [
      '6.1.0-57-amd64',
      ['linux-image-6.1.0-57-amd64-unsigned'],
      'boot/vmlinuz-6.1.0-57-amd64',
      'boot/config-6.1.0-57-amd64',
    ],
    [
      '6.12.118+deb13-amd64',
      ['linux-image-6.12.118+deb13-amd64-unsigned'],
      'boot/vmlinuz-6.12.118+deb13-amd64',
      'boot/config-6.12.118+deb13-amd64',
    ],
    [
      '7.2.12+deb14-cloud-amd64',
      [
        'linux-binary-unsigned-7.2.12+deb14-cloud-amd64',
        'linux-base-7.2.12+deb14-cloud-amd64',
        'linux-modules-7.2.12+deb14-cloud-amd64',
      ],
      'usr/lib/modules/7.2.12+deb14-cloud-amd64/vmlinuz.unsigned',
      'usr/lib/modules/7.2.12+deb14-cloud-amd64/config',
    ],
  ])('%s: the image is in %j, at %s with %s', (release, packages, image, config) => {
    const layout = debianLayout(release);
    expect(layout.imagePackages).toEqual(packages);
    expect(layout.imagePackage).toBe(packages[0]);
    expect(layout.paths.image).toBe(image);
    expect(layout.paths.config).toBe(config);
  });

  it('applies --suite sid to a +deb14 release, and refuses a suite that does not name it', () => {
    expect(debianLayout('7.2.12+deb14-amd64', 'sid').suite).toBe('sid');
    expect(() => debianLayout('6.12.118+deb13-amd64', 'bookworm')).toThrow(
      /"6\.12\.118\+deb13-amd64" is a trixie kernel release, not one of bookworm/,
    );
    expect(() => debianLayout('6.1.0-57-amd64', 'nosuch')).toThrow(/unknown Debian suite "nosuch"/);
  });

  it.each(['6.1', 'linux-6.1.0-56-amd64', '6.1.0-56', '6.12.118+deb13-arm64', '6.12.118+deb12-amd64'])(
    'refuses %s with a hint about release names',
    (release) => {
      expect(() => debianLayout(release)).toThrow(DistroError);
      expect(() => debianLayout(release)).toThrow(/not a Debian kernel release/);
      expect(suiteOfRelease(release)).toBeUndefined();
    },
  );
});
