import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCompiler, compilerFromComment, readConfigCompiler } from '../../src/kbuild/compiler-check.js';

let dir: string;
let localVersion: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpatch-cc-test-'));
  localVersion = (await execa('gcc', ['--version'])).stdout.split('\n')[0]!;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('compiler check', () => {
  it('reads CONFIG_CC_VERSION_TEXT and .comment identities', () => {
    expect(
      readConfigCompiler('CONFIG_CC_VERSION_TEXT="gcc (Debian 12.2.0-14) 12.2.0"\nCONFIG_CC_IS_GCC=y\n'),
    ).toEqual({
      versionText: 'gcc (Debian 12.2.0-14) 12.2.0',
      clang: false,
    });
    expect(compilerFromComment(Buffer.from('\0GCC: (Debian 12.2.0-14) 12.2.0\0'))).toBe(
      'GCC: (Debian 12.2.0-14) 12.2.0',
    );
    expect(compilerFromComment(Buffer.from('Debian clang version 14.0.6\0'))).toBe('clang version 14.0.6');
  });

  it('fails on another CONFIG_CC_VERSION_TEXT, suggesting --skip-compiler-check', async () => {
    const config = join(dir, 'config');
    await writeFile(config, 'CONFIG_CC_VERSION_TEXT="gcc (GCC) 99.1.0"\nCONFIG_CC_IS_GCC=y\n');
    await expect(checkCompiler({ config })).rejects.toMatchObject({
      code: 'build',
      message: expect.stringContaining('gcc (GCC) 99.1.0'),
      hint: expect.stringContaining('--skip-compiler-check'),
    });
  });

  it('accepts the same compiler called by another name (Debian builds with gcc-12)', async () => {
    const config = join(dir, 'config-renamed');
    const renamed = localVersion.replace(/^\S+/, 'gcc-12');
    expect(renamed).not.toBe(localVersion);
    await writeFile(config, `CONFIG_CC_VERSION_TEXT="${renamed}"\nCONFIG_CC_IS_GCC=y\n`);
    await expect(checkCompiler({ config })).resolves.toMatchObject({ source: 'config', target: renamed });
  });

  it('fails on a vmlinux whose .comment names another compiler', async () => {
    await writeFile(join(dir, 't.c'), 'int t;\n');
    await writeFile(join(dir, 'comment'), 'GCC: (Other) 4.8.5\0');
    await execa('gcc', ['-c', '-o', join(dir, 't.o'), join(dir, 't.c')]);
    await execa('objcopy', [
      '--remove-section=.comment',
      '--add-section',
      `.comment=${join(dir, 'comment')}`,
      join(dir, 't.o'),
      join(dir, 'fake-vmlinux'),
    ]);
    await expect(checkCompiler({ vmlinux: join(dir, 'fake-vmlinux') })).rejects.toMatchObject({
      code: 'build',
      message: expect.stringContaining('GCC: (Other) 4.8.5'),
    });
  });
});
