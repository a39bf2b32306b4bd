import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const REPO = new URL('../../', import.meta.url).pathname;

async function kpatchBuild(args: string[]) {
  const result = await execa('node', [`${REPO}bin/kpatch-build.js`, ...args], {
    reject: false,
    env: { CI: 'true' },
  });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

describe('bin/kpatch-build arguments', () => {
  it('prints the version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')) as { version: string };
    expect(await kpatchBuild(['--version'])).toMatchObject({
      exitCode: 0,
      stdout: `kpatch-build ${version}`, // execa strips the final newline
    });
  });

  // The rules themselves are tested on parseKpatchBuildArgs (kpatch-build-options.test.ts); here, that the
  // launcher turns them (and parseArgs' own errors, and the target resolver's) into exit 64.
  it.each([
    [['-j', '0', 'x.patch'], /-j\/--jobs takes a positive whole number/],
    [['--bogus', 'x.patch'], /Unknown option '--bogus'/],
    [
      // Real files: they are checked before the distro is (a missing one would be reported first).
      ['--distro', 'debian', '-r', `${REPO}package.json`, `${REPO}examples/cmdline.patch`],
      /-r\/--sourcerpm is for RPM distros; the target distro is debian/,
    ],
    [
      ['--sign-key', '/nonexistent/k.pem', '--sign-cert', '/nonexistent/c.pem', 'x.patch'],
      /--sign-key: \/nonexistent\/k\.pem does not exist/,
    ],
  ])('exits 64 on %j', async (args, message) => {
    const result = await kpatchBuild(args);
    expect(result.stderr).toMatch(message);
    expect(result.exitCode).toBe(64);
  });
});
