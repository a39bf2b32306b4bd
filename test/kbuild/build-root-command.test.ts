import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindSet, buildRootCommand } from '../../src/kbuild/build-root-command.js';
import { hostToolchain } from '../../src/kbuild/toolchain.js';

describe('bindSet', () => {
  it.each([
    [['/a/b', '/a'], ['/a']],
    [
      ['/a/b/', '/a/bc'],
      ['/a/b', '/a/bc'],
    ],
    [
      ['/x', '/x', 'rel'],
      ['/x', join(process.cwd(), 'rel')],
    ],
  ])('%j -> %j', (input, expected) => {
    expect(bindSet(input).sort()).toEqual(expected.sort());
  });

  it('refuses to bind / (the root would see the whole host)', () => {
    expect(() => bindSet(['/'])).toThrow(/refusing to bind-mount \//);
  });
});

describe('buildRootCommand', () => {
  it('the host toolchain leaves commands alone', () => {
    const command = { file: 'make', args: ['-C', '/t'], cwd: '/t' };
    expect(hostToolchain.command(command)).toBe(command);
  });

  // A real chroot: a root holding only a static busybox as /bin/sh, a host directory bound into it.
  const isRoot = process.getuid?.() === 0;
  let root: string;
  let shared: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'kpatch-root-'));
    shared = await mkdtemp(join(tmpdir(), 'kpatch-bind-'));
    await mkdir(join(root, 'bin'), { recursive: true });
    await mkdir(join(root, 'proc'));
    await copyFile('/bin/busybox', join(root, 'bin', 'sh'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(shared, { recursive: true, force: true });
  });

  it.runIf(isRoot)(
    'runs inside the root with the bound directory at the same path, and unmounts it',
    async () => {
      const run = buildRootCommand(
        { root, binds: [shared] },
        {
          file: '/bin/sh',
          args: ['-c', 'echo "$PWD $(test -d /usr && echo host || echo root)" > marker'],
          cwd: shared,
        },
      );
      await execa(run.file, run.args);
      // The command saw the bound directory as its cwd, inside the root (no /usr there).
      expect(await readFile(join(shared, 'marker'), 'utf8')).toBe(`${shared} root\n`);
      // The mount namespace died with the command: nothing stays mounted under the root.
      const mounts = await readFile('/proc/self/mountinfo', 'utf8');
      expect(mounts).not.toContain(root);
    },
  );

  it.runIf(isRoot)('fails when a bound directory does not exist (no silent empty directory)', async () => {
    const entry = { root, binds: [join(root, '..', 'kpatch-no-such-dir')] };
    const run = buildRootCommand(entry, { file: '/bin/sh', args: ['-c', 'true'], cwd: shared });
    const result = await execa(run.file, run.args, { reject: false });
    expect(result.exitCode).not.toBe(0);
  });
});
