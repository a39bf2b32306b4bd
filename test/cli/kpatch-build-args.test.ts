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

  it.each([
    [['--check', 'true', 'x.patch'], /--check is used by --verify/],
    [['-j', '0', 'x.patch'], /-j\/--jobs takes a positive whole number/],
    [['--max-objects', '1.5', 'x.patch'], /--max-objects takes a positive whole number/],
    [[], /no patch given/],
    [['--bogus', 'x.patch'], /Unknown option '--bogus'/],
    [
      // Real files: they are checked before the distro is (a missing one would be reported first).
      ['--distro', 'debian', '-r', `${REPO}package.json`, `${REPO}examples/cmdline.patch`],
      /-r\/--sourcerpm is for RPM distros; the target distro is debian/,
    ],
    [
      ['-s', '.', '-r', 'kernel.src.rpm', 'x.patch'],
      /-r\/--sourcerpm and -s\/--sourcedir are two different sources/,
    ],
    [['--oot-module', 'm.ko', 'x.patch'], /--oot-module and --oot-module-src go together/],
    [['-t', 'vmlinux', 'x.patch'], /-t\/--target names make targets for --full-build/],
  ])('exits 64 on %j', async (args, message) => {
    const result = await kpatchBuild(args);
    expect(result.stderr).toMatch(message);
    expect(result.exitCode).toBe(64);
  });
});
