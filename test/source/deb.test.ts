import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { SourceError } from '../../src/errors.js';
import {
  extractDeb,
  extractDebs,
  listDebMembers,
  parseControl,
  readDebControl,
} from '../../src/source/deb.js';
import { resolveInRoot } from '../../src/source/tree-paths.js';
import { arArchive, tarArchive, tempDir } from './helpers.js';

const KVER = '6.1.0-99-amd64';
const CONTROL = `Package: kpb-test
Version: 1:6.1.192-2
Architecture: amd64
Maintainer: Test <test@example.org>
Depends: libc6 (>= 2.36), kmod | busybox,
 linux-base
Description: a test package
 second line
 .
 after an empty line
`;

/** Builds a .deb with dpkg-deb from a tree shaped like a kernel image + headers package. */
async function buildDeb(dir: string, compression: string, control = CONTROL): Promise<string> {
  const root = join(dir, `tree-${compression}`);
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await writeFile(join(root, 'DEBIAN/control'), control);
  await mkdir(join(root, 'boot'));
  await writeFile(join(root, `boot/vmlinuz-${KVER}`), 'kernel image');
  await writeFile(join(root, `boot/config-${KVER}`), 'CONFIG_LIVEPATCH=y\n');
  await writeFile(join(root, `boot/System.map-${KVER}`), 'ffffffff81000000 T _text\n');
  await mkdir(join(root, `lib/modules/${KVER}/kernel/fs`), { recursive: true });
  await writeFile(join(root, `lib/modules/${KVER}/kernel/fs/foo.ko`), 'module');
  await symlink(`/usr/src/linux-headers-${KVER}`, join(root, `lib/modules/${KVER}/build`)); // absolute
  await mkdir(join(root, `usr/src/linux-headers-${KVER}`), { recursive: true });
  await writeFile(join(root, `usr/src/linux-headers-${KVER}/Makefile`), 'all:\n');
  await symlink('../../lib/linux-kbuild-6.1/scripts', join(root, `usr/src/linux-headers-${KVER}/scripts`)); // relative
  await mkdir(join(root, 'usr/lib/linux-kbuild-6.1/scripts'), { recursive: true });
  await writeFile(join(root, 'usr/lib/linux-kbuild-6.1/scripts/sign-file'), '#!/bin/sh\n', { mode: 0o755 });
  await mkdir(join(root, 'usr/share/doc/kpb-test/empty'), { recursive: true });
  const deb = join(dir, `kpb-test-${compression}.deb`);
  await execa('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', root, deb]);
  return deb;
}

let work: string;
const debs: Record<string, string> = {};
const compressions = ['xz', 'gzip', 'zstd', 'none'];

beforeAll(async () => {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  work = await mkdtemp(join(tmpdir(), 'kpb-deb-'));
  for (const c of compressions) debs[c] = await buildDeb(work, c);
  return async () => {
    const { rm } = await import('node:fs/promises');
    await rm(work, { recursive: true, force: true });
  };
});

describe('deb reading', () => {
  it.each(compressions)('lists the ar members (%s)', async (c) => {
    const members = await listDebMembers(debs[c]!);
    const ext = { xz: '.xz', gzip: '.gz', zstd: '.zst', none: '' }[c];
    expect(members.map((m) => m.name)).toEqual([
      'debian-binary',
      expect.stringMatching(/^control\.tar/),
      `data.tar${ext}`,
    ]);
    expect(members[0]).toMatchObject({ offset: 68, size: 4 });
  });

  it.each(compressions)('extracts files, dirs and both kinds of symlink (%s)', async (c) => {
    const dest = join(await tempDir(), 'root');
    const result = await extractDeb(debs[c]!, dest);
    expect(result.dir).toBe(dest);
    expect(result.written).toBeGreaterThan(10);
    expect(await readFile(join(dest, `boot/vmlinuz-${KVER}`), 'utf8')).toBe('kernel image');
    expect(await readdir(join(dest, 'usr/share/doc/kpb-test/empty'))).toEqual([]);
    // Absolute link text is kept verbatim; relative links too.
    expect(await readlink(join(dest, `lib/modules/${KVER}/build`))).toBe(`/usr/src/linux-headers-${KVER}`);
    expect(await readlink(join(dest, `usr/src/linux-headers-${KVER}/scripts`))).toBe(
      '../../lib/linux-kbuild-6.1/scripts',
    );
    // Callers resolve them with the extraction root as '/'.
    expect(await resolveInRoot(dest, `lib/modules/${KVER}/build/Makefile`)).toBe(
      join(dest, `usr/src/linux-headers-${KVER}/Makefile`),
    );
    const signFile = await resolveInRoot(dest, `lib/modules/${KVER}/build/scripts/sign-file`);
    expect(signFile).toBe(join(dest, 'usr/lib/linux-kbuild-6.1/scripts/sign-file'));
    expect(await readFile(signFile, 'utf8')).toBe('#!/bin/sh\n');
    expect(existsSync(join(dest, 'DEBIAN'))).toBe(false);
    expect((await readdir(join(dest, '..'))).filter((n) => n.includes('partial'))).toEqual([]);
  });

  it('extracts only the members a filter selects', async () => {
    const dest = join(await tempDir(), 'root');
    const seen: string[] = [];
    const result = await extractDeb(debs.xz!, dest, {
      filter: ['./boot/vmlinuz-*', './boot/config-*', './lib/modules/**'],
      onEntry: (m) => seen.push(m.path),
    });
    expect(seen.sort()).toEqual([
      `boot/config-${KVER}`,
      `boot/vmlinuz-${KVER}`,
      `lib/modules/${KVER}`,
      `lib/modules/${KVER}/build`,
      `lib/modules/${KVER}/kernel`,
      `lib/modules/${KVER}/kernel/fs`,
      `lib/modules/${KVER}/kernel/fs/foo.ko`,
    ]);
    expect(result.written).toBe(7);
    expect(await readdir(join(dest, 'boot'))).toEqual([`config-${KVER}`, `vmlinuz-${KVER}`].sort());
    expect(existsSync(join(dest, 'usr'))).toBe(false);
  });

  it('accepts a predicate filter', async () => {
    const dest = join(await tempDir(), 'root');
    await extractDeb(debs.gzip!, dest, { filter: (path) => path.startsWith('boot/System.map') });
    expect(await readdir(join(dest, 'boot'))).toEqual([`System.map-${KVER}`]);
  });

  it('merges several packages into one tree; refuses an existing destination unless replace', async () => {
    const dir = await tempDir();
    const other = await buildDeb(dir, 'xz', CONTROL.replace('kpb-test', 'kpb-other'));
    const dest = join(dir, 'root');
    await extractDebs([debs.xz!, other], dest);
    expect(existsSync(join(dest, 'boot', `vmlinuz-${KVER}`))).toBe(true);
    const again = await extractDeb(debs.zstd!, dest).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(SourceError);
    expect((again as SourceError).message).toContain(`${dest} already exists`);
    await writeFile(join(dest, 'marker'), '');
    await extractDeb(debs.zstd!, dest, { replace: true });
    expect(existsSync(join(dest, 'marker'))).toBe(false);
    expect((await readdir(dir)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('reads and parses the control file', async () => {
    for (const c of compressions) {
      const control = await readDebControl(debs[c]!);
      expect(control).toMatchObject({
        package: 'kpb-test',
        version: '1:6.1.192-2',
        architecture: 'amd64',
        depends: ['libc6 (>= 2.36)', 'kmod | busybox', 'linux-base'],
      });
      expect(control.fields.Description).toBe('a test package\nsecond line\n\nafter an empty line');
    }
  });

  it('parseControl reports missing fields', () => {
    expect(() => parseControl('Package: x\nVersion: 1\n', 'ctl')).toThrow(/ctl: no Architecture field/);
  });

  it.each([
    ['not an ar archive', Buffer.from('hello world, this is not a deb'), /no "!<arch>" signature/],
    [
      'truncated member',
      arArchive([
        { name: 'debian-binary', data: Buffer.from('2.0\n') },
        { name: 'data.tar', data: Buffer.alloc(4096) },
      ]).subarray(0, 1000),
      /cut short \(incomplete download\?\)/,
    ],
    ['no data member', arArchive([{ name: 'debian-binary', data: Buffer.from('2.0\n') }]), /no data\.tar/],
  ])('refuses a corrupt .deb: %s', async (_name, bytes, message) => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bad.deb'), bytes);
    const error = await extractDeb(join(dir, 'bad.deb'), join(dir, 'root')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).message).toMatch(message);
    expect((error as SourceError).message).toContain('bad.deb');
    expect((error as SourceError).hint).toBeTruthy();
    expect(existsSync(join(dir, 'root'))).toBe(false);
  });

  it('refuses a .deb whose data.tar tries to escape, leaving nothing behind', async () => {
    const dir = await tempDir();
    const data = tarArchive([
      { name: './', type: '5' },
      { name: './lib', type: '2', link: '/etc' },
      { name: './lib/evil.conf', data: 'pwned' },
    ]);
    await writeFile(
      join(dir, 'evil.deb'),
      arArchive([
        { name: 'debian-binary', data: Buffer.from('2.0\n') },
        { name: 'control.tar', data: tarArchive([{ name: './control', data: CONTROL }]) },
        { name: 'data.tar', data },
      ]),
    );
    expect((await readDebControl(join(dir, 'evil.deb'))).package).toBe('kpb-test');
    const error = await extractDeb(join(dir, 'evil.deb'), join(dir, 'root')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(
      /evil\.deb \(data\.tar\).*"\.\/lib\/evil\.conf".*through the symlink "lib"/,
    );
    expect(await readdir(dir)).toEqual(['evil.deb']);
  });
});
