import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SourceError } from '../../src/errors.js';
import { compileFilter, resolveInRoot } from '../../src/source/tree-paths.js';
import { unpackTarball } from '../../src/source/unpack-tarball.js';
import { paxMember, type TarSpec, tarArchive, tarMember, tempDir } from './helpers.js';

/** Unpacks `members` as a plain .tar into DIR/root; returns the error (if any) and the dir. */
async function unpack(members: (TarSpec | Buffer)[], options: { strip?: number } = {}) {
  const dir = await tempDir();
  await mkdir(join(dir, 'outside'));
  await writeFile(join(dir, 'outside/victim'), 'original');
  await writeFile(join(dir, 'evil.tar'), tarArchive(members));
  const error = await unpackTarball(join(dir, 'evil.tar'), join(dir, 'x', 'root'), options).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { dir, error };
}

describe('safe extraction refuses dangerous archives', () => {
  const cases: { name: string; members: (TarSpec | Buffer)[]; member: string; why: RegExp }[] = [
    {
      name: 'absolute path',
      members: [{ name: '/tmp/kpb-evil', data: 'x' }],
      member: '/tmp/kpb-evil',
      why: /absolute path/,
    },
    {
      name: '"../" escape',
      members: [{ name: '../outside/victim', data: 'x' }],
      member: '../outside/victim',
      why: /"\.\."/,
    },
    {
      name: 'inner ".." escape',
      members: [{ name: 'a/../../../outside/victim', data: 'x' }],
      member: 'a/../../../outside/victim',
      why: /"\.\."/,
    },
    {
      name: 'write through an absolute symlink',
      members: [
        { name: 'link', type: '2', link: '/tmp' },
        { name: 'link/kpb-evil', data: 'x' },
      ],
      member: 'link/kpb-evil',
      why: /through the symlink "link"/,
    },
    {
      name: 'write through a relative symlink pointing outside',
      members: [
        { name: 'up', type: '2', link: '../../outside' },
        { name: 'up/victim', data: 'pwned' },
      ],
      member: 'up/victim',
      why: /through the symlink "up"/,
    },
    {
      name: 'write through a symlink nested in a directory',
      members: [
        { name: 'd/', type: '5' },
        { name: 'd/l', type: '2', link: '../..' },
        { name: 'd/l/outside/victim', data: 'pwned' },
      ],
      member: 'd/l/outside/victim',
      why: /through the symlink "d\/l"/,
    },
    {
      name: 'replacing a symlink with a file',
      members: [
        { name: 'l', type: '2', link: '/etc/passwd' },
        { name: 'l', data: 'x' },
      ],
      member: 'l',
      why: /replace a symlink/,
    },
    {
      name: 'hard link to an absolute path',
      members: [{ name: 'h', type: '1', link: '/etc/passwd' }],
      member: 'h',
      why: /absolute path/,
    },
    {
      name: 'hard link escaping with ..',
      members: [{ name: 'h', type: '1', link: '../outside/victim' }],
      member: 'h',
      why: /"\.\."/,
    },
    {
      name: 'hard link to a symlink',
      members: [
        { name: 's', type: '2', link: '/etc' },
        { name: 'h', type: '1', link: 's' },
      ],
      member: 'h',
      why: /hard link to the symlink "s"/,
    },
    {
      name: 'device node',
      members: [{ name: 'dev', type: '3' }],
      member: 'dev',
      why: /char-device members are not allowed/,
    },
    {
      name: 'PAX path escape',
      members: [paxMember({ path: '../outside/victim' }), { name: 'innocent', data: 'pwned' }],
      member: '../outside/victim',
      why: /"\.\."/,
    },
    {
      name: 'GNU long name escape',
      members: [
        tarMember({ name: '././@LongLink', type: 'L', data: `../${'a'.repeat(120)}\0` }),
        { name: 'short', data: 'x' },
      ],
      member: `../${'a'.repeat(120)}`,
      why: /"\.\."/,
    },
    {
      name: 'symlink with a data size (parser-differential smuggling)',
      members: [{ name: 's', type: '2', link: 'x', size: 1024, data: Buffer.alloc(1024) }],
      member: 's',
      why: /claims 1024 bytes of data/,
    },
    {
      name: 'two PAX headers for one member (tars disagree on merge vs replace)',
      members: [paxMember({ path: 'safe' }), paxMember({ mtime: '1' }), { name: 'link/evil', data: 'x' }],
      member: 'PaxHeader',
      why: /two pax-header headers/,
    },
    {
      name: 'global PAX header renaming members',
      members: [paxMember({ path: 'victim' }, 'g'), { name: 'innocent', data: 'x' }],
      member: 'PaxHeader',
      why: /global PAX header sets "path"/,
    },
  ];

  it.each(cases)('$name', async ({ members, member, why }) => {
    const { dir, error } = await unpack(members);
    expect(error).toBeInstanceOf(SourceError);
    const message = (error as SourceError).message;
    expect(message).toContain('evil.tar');
    expect(message).toContain(`"${member}"`);
    expect(message).toMatch(why);
    expect((error as SourceError).hint).toBeTruthy();
    // Nothing was written anywhere: not outside, not at the destination, no staging left over.
    expect(await readFile(join(dir, 'outside/victim'), 'utf8')).toBe('original');
    expect(existsSync('/tmp/kpb-evil')).toBe(false);
    expect(await readdir(join(dir, 'x'))).toEqual([]);
  });

  it('refuses a bad header checksum and a truncated archive', async () => {
    const corrupt = tarMember({ name: 'f', data: 'x' });
    corrupt[0] = 0x41;
    expect((await unpack([corrupt])).error).toMatchObject({ message: /bad tar header checksum/ });
    const dir = await tempDir();
    await writeFile(
      join(dir, 't.tar'),
      tarMember({ name: 'big', data: Buffer.alloc(5000) }).subarray(0, 2048),
    );
    const error = await unpackTarball(join(dir, 't.tar'), join(dir, 'root')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(/t\.tar.*(ends in the middle|tar failed)/);
    expect(existsSync(join(dir, 'root'))).toBe(false);
  });
});

describe('safe extraction keeps what is legitimate', () => {
  it('keeps in-tree relative symlinks, absolute symlink text, hard links and long names', async () => {
    const long = `deep/${'n'.repeat(150)}`;
    const { dir, error } = await unpack([
      { name: 'usr/lib/kbuild/scripts/', type: '5' },
      { name: 'usr/lib/kbuild/scripts/tool', data: 'tool' },
      { name: 'usr/src/headers/', type: '5' },
      { name: 'usr/src/headers/scripts', type: '2', link: '../../lib/kbuild/scripts' },
      { name: 'lib/modules/6.1/', type: '5' },
      { name: 'lib/modules/6.1/build', type: '2', link: '/usr/src/headers' },
      { name: 'usr/lib/kbuild/scripts/tool-again', type: '1', link: 'usr/lib/kbuild/scripts/tool' },
      tarMember({ name: '././@LongLink', type: 'L', data: `${long}\0` }),
      { name: long.slice(0, 99), data: 'long' },
      paxMember({ path: 'pax/ünïcode name' }),
      { name: 'ignored', data: 'pax' },
    ]);
    expect(error).toBeUndefined();
    const root = join(dir, 'x/root');
    expect(await readlink(join(root, 'usr/src/headers/scripts'))).toBe('../../lib/kbuild/scripts');
    expect(await readlink(join(root, 'lib/modules/6.1/build'))).toBe('/usr/src/headers');
    expect(await readFile(join(root, 'usr/lib/kbuild/scripts/tool-again'), 'utf8')).toBe('tool');
    expect(await readFile(join(root, long), 'utf8')).toBe('long');
    expect(await readFile(join(root, 'pax/ünïcode name'), 'utf8')).toBe('pax');
    expect(await resolveInRoot(root, 'lib/modules/6.1/build/scripts/tool')).toBe(
      join(root, 'usr/lib/kbuild/scripts/tool'),
    );
  });

  it('refuses a hard link whose target the filter left out, with a hint', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'a.tar'),
      tarArchive([
        { name: 'a/f', data: 'x' },
        { name: 'b/h', type: '1', link: 'a/f' },
      ]),
    );
    const error = await unpackTarball(join(dir, 'a.tar'), join(dir, 'root'), { filter: ['b/**'] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).hint).toMatch(/include the link target/);
  });
});

describe('resolveInRoot', () => {
  it('treats the root as "/" and never climbs above it', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'usr/src/h'), { recursive: true });
    await symlink('/usr/src/h', join(root, 'abs'));
    await symlink('../../../../..', join(root, 'usr/src/h/up'));
    await symlink('loop', join(root, 'loop'));
    expect(await resolveInRoot(root, 'abs/x')).toBe(join(root, 'usr/src/h/x'));
    expect(await resolveInRoot(root, 'usr/src/h/up/etc/passwd')).toBe(join(root, 'etc/passwd'));
    expect(await resolveInRoot(root, 'missing/../../../etc')).toBe(join(root, 'etc'));
    await expect(resolveInRoot(root, 'loop')).rejects.toThrow(/too many levels of symbolic links/);
  });
});

describe('compileFilter', () => {
  it.each([
    [['./boot/vmlinuz-*'], 'boot/vmlinuz-6.1', true],
    [['./boot/vmlinuz-*'], 'boot/vmlinuz-6.1/x', true], // below a selected directory
    [['./boot/vmlinuz-*'], 'boot/config-6.1', false],
    [['lib/modules/**'], 'lib/modules/6.1/kernel/a.ko', true],
    [['lib/modules/**'], 'lib/firmware/x', false],
    [['**/*.ko'], 'lib/modules/6.1/kernel/a.ko', true],
    [['usr/src'], 'usr/src/linux/Makefile', true],
    [['a?c'], 'abc', true],
    [['a?c'], 'a/c', false],
  ] as const)('%j on %s → %s', (patterns, path, expected) => {
    const select = compileFilter(patterns)!;
    expect(select(path, { path, rawPath: path, type: 'file', size: 0, mode: 0 })).toBe(expected);
  });
});
