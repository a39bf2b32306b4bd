import { lstat, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeCpioNewc, writeCpioNewcGz } from '../../src/verify/cpio-newc.js';

describe('writeCpioNewc', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cpio-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('produces an archive GNU cpio unpacks with the same files, modes, links and device nodes', async () => {
    const odd = Buffer.from([1, 2, 3, 4, 5]); // length not a multiple of 4 exercises padding
    const archive = writeCpioNewc([
      { path: 'bin', kind: 'dir', mode: 0o755 },
      { path: 'dev', kind: 'dir', mode: 0o755 },
      { path: 'bin/tool', kind: 'file', mode: 0o755, data: odd },
      { path: 'bin/sh', kind: 'symlink', mode: 0o777, data: 'tool' },
      { path: 'init', kind: 'file', mode: 0o700, data: '#!/bin/sh\necho hi\n' },
      { path: 'dev/console', kind: 'chardev', mode: 0o600, rdev: { major: 5, minor: 1 } },
    ]);
    const file = join(dir, 'a.cpio');
    await writeFile(file, archive);
    const out = join(dir, 'out');
    await execa('mkdir', [out]);
    await execa('sh', ['-c', `cpio -idm --quiet < ${file}`], { cwd: out });
    expect(await readFile(join(out, 'bin/tool'))).toEqual(odd);
    expect((await lstat(join(out, 'bin/tool'))).mode & 0o777).toBe(0o755);
    expect(await readlink(join(out, 'bin/sh'))).toBe('tool');
    expect(await readFile(join(out, 'init'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect((await lstat(join(out, 'init'))).mode & 0o777).toBe(0o700);
    const consoleNode = await lstat(join(out, 'dev/console'));
    expect(consoleNode.isCharacterDevice()).toBe(true);
    expect(consoleNode.rdev).toBe(5 * 256 + 1);
    const listing = await execa('sh', ['-c', `cpio -t --quiet < ${file}`]);
    expect(listing.stdout.split('\n')).toEqual(['bin', 'dev', 'bin/tool', 'bin/sh', 'init', 'dev/console']);
  });

  it('gzips so that gunzip restores the plain archive', async () => {
    const entries = [{ path: 'x', kind: 'file' as const, mode: 0o644, data: 'y'.repeat(1000) }];
    const file = join(dir, 'a.cpio.gz');
    await writeFile(file, writeCpioNewcGz(entries));
    const plain = await execa('sh', ['-c', `gzip -dc < ${file}`], { encoding: 'buffer' });
    expect(Buffer.from(plain.stdout)).toEqual(writeCpioNewc(entries));
  });

  it.each(['/abs', '../up', 'a/../../b'])('refuses the path %s', (path) => {
    expect(() => writeCpioNewc([{ path, kind: 'file', mode: 0o644 }])).toThrow(/relative and inside/);
  });
});
