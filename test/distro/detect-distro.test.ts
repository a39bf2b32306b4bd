import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectDistro } from '../../src/distro/detect-distro.js';
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
  });

  it.each([
    ['ID=fedora\n', /distro "fedora" is not supported/],
    ['NAME=x\n', /distro "unknown" is not supported/],
  ])('refuses %j with the supported list', async (text, message) => {
    const file = await osRelease(text);
    expect(() => detectDistro(undefined, file)).toThrow(DistroError);
    expect(() => detectDistro(undefined, file)).toThrow(message);
  });

  it('says how to name the distro when os-release cannot be read', () => {
    expect(() => detectDistro(undefined, '/nonexistent/os-release')).toThrow(/cannot read/);
  });
});
