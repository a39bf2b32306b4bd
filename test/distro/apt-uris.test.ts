import { describe, expect, it } from 'vitest';
import { aptPackageUris, suiteOfPackage } from '../../src/distro/apt-uris.js';
import { SourceError } from '../../src/errors.js';

describe('suiteOfPackage', () => {
  it.each([
    ['linux-image-6.12.118+deb13-amd64-unsigned', 'trixie'],
    ['linux-headers-6.12.115+deb13.1-cloud-amd64', 'trixie'],
    ['linux-kbuild-6.12.118+deb13', 'trixie'],
    ['linux-headers-6.12.118+deb13-common-rt', 'trixie'],
    ['linux-source-6.12', 'trixie'],
    ['linux-image-7.2.12+deb14-amd64', 'forky'],
    ['linux-kbuild-7.2.12+deb14', 'forky'],
    ['linux-image-6.1.0-57-amd64-unsigned', 'bookworm'],
    ['linux-headers-6.1.0-57-common', 'bookworm'],
    ['linux-kbuild-6.1', 'bookworm'],
    ['linux-source-6.1', 'bookworm'],
    ['gcc-14', undefined],
  ])('%s → %s', (name, suite) => {
    expect(suiteOfPackage(name)).toBe(suite);
  });
});

describe('aptPackageUris', () => {
  it.each(['-o=Dir::Etc=/tmp', 'Linux', 'linux-source-6.1=$(id)', 'a/b'])(
    'refuses "%s", which is not a package name, before any network access',
    async (name) => {
      const error = await aptPackageUris([name]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceError);
      expect((error as SourceError).message).toBe(`"${name}" is not a valid Debian package name`);
    },
  );
});
