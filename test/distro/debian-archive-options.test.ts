import { afterEach, describe, expect, it } from 'vitest';
import { applyDebianArchiveOptions } from '../../src/distro/debian-archive-options.js';
import { debianLayout } from '../../src/distro/debian-layout.js';
import { debianArchiveConfig, setDebianArchiveOverrides } from '../../src/source/debian-mirrors.js';

afterEach(() => setDebianArchiveOverrides({ suite: undefined, ignoreValidUntil: false }));

describe('applyDebianArchiveOptions (--suite, --ignore-valid-until)', () => {
  it('puts them into effect for the archive client and the release-name rules', () => {
    applyDebianArchiveOptions({ suite: 'sid', ignoreValidUntil: true, distro: 'debian' });
    expect(debianArchiveConfig()).toMatchObject({ suite: 'sid', ignoreValidUntil: true });
    expect(debianLayout('7.2.12+deb14-amd64').suite).toBe('sid');
    expect(() => debianLayout('6.12.118+deb13-amd64')).toThrow(/is a trixie kernel release, not one of sid/);
  });

  it.each([
    [{ suite: 'bullseye', distro: 'debian' }, /unknown Debian suite "bullseye"/],
    [{ suite: 'trixie', distro: 'fedora' }, /--suite and --ignore-valid-until are for Debian targets/],
    [{ ignoreValidUntil: true, distro: 'debian', sourceDir: '/tmp/tree' }, /are for Debian targets/],
  ])('refuses %j', (options, message) => {
    expect(() => applyDebianArchiveOptions(options)).toThrow(message);
    expect(debianArchiveConfig().suite).toBeUndefined();
  });
});
