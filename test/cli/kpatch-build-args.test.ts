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
      ['--distro', 'debian', '-r', 'kernel.src.rpm', 'x.patch'],
      /-r\/--sourcerpm is for RPM distros; the target distro is debian/,
    ],
    [
      ['-s', '.', '-r', 'kernel.src.rpm', 'x.patch'],
      /-r\/--sourcerpm and -s\/--sourcedir are two different sources/,
    ],
    [['--oot-module', 'm.ko', 'x.patch'], /--oot-module and --oot-module-src go together/],
    [['-t', 'vmlinux', 'x.patch'], /-t\/--target names make targets for --full-build/],
    [['--sign-key', 'k.pem', 'x.patch'], /--sign-key and --sign-cert go together/],
    [['--sign-cert', 'c.pem', 'x.patch'], /--sign-key and --sign-cert go together/],
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
