import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectDistro, KNOWN_DISTROS, osReleaseId } from '../../src/distro/detect-distro.js';
import { DistroError } from '../../src/errors.js';

async function osRelease(text: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'os-release-')), 'os-release');
  await writeFile(file, text);
  return file;
}

describe('detectDistro', () => {
  it.each([
    ['ID=debian\nVERSION_ID="12"\n', 'debian'],
    ['NAME="Debian GNU/Linux"\nID="debian"\n', 'debian'],
  ])('reads the ID of %j', async (text, id) => {
    expect(detectDistro(undefined, await osRelease(text))).toBe(id);
  });

  it('prefers --distro over os-release', async () => {
    expect(detectDistro('debian', await osRelease('ID=fedora\n'))).toBe('debian');
    expect(detectDistro('fedora', await osRelease('ID=debian\n'))).toBe('fedora');
  });

  it('accepts Fedora and Ubuntu (their livepatch builds are proven)', async () => {
    expect(detectDistro(undefined, await osRelease('NAME="Fedora Linux"\nID=fedora\n'))).toBe('fedora');
    expect(detectDistro(undefined, await osRelease('NAME="Ubuntu"\nID=ubuntu\n'))).toBe('ubuntu');
  });

  it.each([
    ['ID=opensuse-leap\n', /distro "opensuse-leap" is not supported/],
    ['ID=arch\n', /distro "arch" is not supported/],
    ['NAME=x\n', /distro "unknown" is not supported/],
  ])('refuses %j with the supported list', async (text, message) => {
    const file = await osRelease(text);
    expect(() => detectDistro(undefined, file)).toThrow(DistroError);
    expect(() => detectDistro(undefined, file)).toThrow(message);
  });

  it('names the supported distros in the hint', async () => {
    const file = await osRelease('ID=gentoo\n');
    const error = (() => {
      try {
        return detectDistro(undefined, file);
      } catch (e) {
        return e;
      }
    })();
    expect((error as DistroError).hint).toMatch(
      /supported today: debian, fedora, centos, almalinux, rocky, ol, ubuntu \(--distro NAME\)/,
    );
  });

  it('says how to name the distro when os-release cannot be read', () => {
    expect(() => detectDistro(undefined, '/nonexistent/os-release')).toThrow(/cannot read/);
  });
});

describe("detectDistro with the adapters' IDs", () => {
  it.each([
    ['NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n', 'ubuntu'],
    ['NAME="Fedora Linux"\nID=fedora\n', 'fedora'],
    ['NAME="CentOS Stream"\nID="centos"\nID_LIKE="rhel fedora"\n', 'centos'],
    ['ID="almalinux"\n', 'almalinux'],
    ["ID='rocky'\n", 'rocky'],
    ['NAME="Oracle Linux Server"\nID="ol"\n', 'ol'],
  ])('reads %j as %s when every known distro is accepted', async (text, id) => {
    const file = await osRelease(text);
    expect(osReleaseId(file)).toBe(id);
    expect(detectDistro(undefined, file, KNOWN_DISTROS)).toBe(id);
    // kpatch-build's own list: every adapter's build is proven now.
    expect(detectDistro(undefined, file)).toBe(id);
  });

  it('still refuses an ID nobody handles, listing the known ones', async () => {
    const file = await osRelease('ID=rhel\n');
    expect(() => detectDistro(undefined, file, KNOWN_DISTROS)).toThrow(/distro "rhel" is not supported/);
  });
});
