import { lstat, mkdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { KpatchError, SourceError } from '../../src/errors.js';
import { CpioToTar } from '../../src/source/cpio-to-tar.js';
import { extractTarStream } from '../../src/source/extract-tar.js';
import { extractRpm } from '../../src/source/rpm.js';
import { readRpm } from '../../src/source/rpm-format.js';
import { tempDir } from './helpers.js';

/** Builds a source RPM with rpmbuild -bs: a spec, a tarball, a patch; `payload` is rpm's _source_payload. */
async function buildSrpm(payload: string): Promise<string> {
  const top = await tempDir();
  await mkdir(join(top, 'SOURCES'), { recursive: true });
  await writeFile(join(top, 'SOURCES/fix.patch'), '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n');
  await writeFile(join(top, 'SOURCES/data.bin'), Buffer.alloc(200_000, 7));
  await writeFile(
    join(top, 'SOURCES/kernel.spec'),
    'Name: kernel\nVersion: 6.5.6\nRelease: 300.fc39\nSummary: t\nLicense: GPLv2\nSource0: data.bin\nPatch1: fix.patch\n%description\nt\n%prep\n%build\n%files\n',
  );
  await execa('rpmbuild', [
    '-bs',
    '-D',
    `_topdir ${top}`,
    '-D',
    `_source_payload ${payload}`,
    join(top, 'SOURCES/kernel.spec'),
  ]);
  return join(top, 'SRPMS/kernel-6.5.6-300.fc39.src.rpm');
}

describe('readRpm + extractRpm on rpmbuild-made packages', () => {
  it.each([
    ['w9.gzdio', 'gzip'],
    ['w6.xzdio', 'xz'],
    ['w19.zstdio', 'zstd'],
    ['w9.bzdio', 'bzip2'],
  ])('payload %s: header fields, digests verified, files extracted', async (payload, compression) => {
    const srpm = await buildSrpm(payload);
    const info = await readRpm(srpm);
    expect(info).toMatchObject({
      name: 'kernel',
      version: '6.5.6',
      release: '300.fc39',
      isSource: true,
      arch: 'src',
      compression,
    });
    expect(info.verified).toEqual(['header sha256', 'payload sha256', 'header+payload md5']);
    const dest = join(await tempDir(), 'out');
    const result = await extractRpm(srpm, dest);
    expect(result.written).toBe(3);
    expect((await readFile(join(dest, 'data.bin'))).equals(Buffer.alloc(200_000, 7))).toBe(true);
    expect(await readFile(join(dest, 'kernel.spec'), 'utf8')).toContain('Name: kernel');
  });

  it.each([
    ['in the payload', 'payload', /payload sha256 mismatch/],
    ['in the main header', 'header', /header sha256 mismatch/],
  ])('refuses a byte flipped %s, naming the file', async (_where, at, message) => {
    const srpm = await buildSrpm('w9.gzdio');
    const data = await readFile(srpm);
    const info = await readRpm(srpm);
    const offset =
      at === 'payload' ? Math.floor((info.payloadOffset + data.length) / 2) : info.payloadOffset - 100; // header data store
    data[offset] = (data[offset] ?? 0) ^ 0x01;
    await writeFile(srpm, data);
    const error = await readRpm(srpm).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KpatchError);
    expect((error as Error).message).toContain(srpm);
    expect((error as Error).message).toMatch(message);
    await expect(extractRpm(srpm, join(await tempDir(), 'out'))).rejects.toThrow(srpm);
  });

  it('refuses a file that is not an RPM', async () => {
    const file = join(await tempDir(), 'x.rpm');
    await writeFile(
      file,
      'not an rpm at all, just text that is long enough to read a lead from it...............................',
    );
    await expect(readRpm(file)).rejects.toThrow(/not a valid RPM: no RPM lead/);
  });
});

interface CpioSpec {
  name: string;
  mode: number;
  data?: string;
  ino?: number;
  nlink?: number;
}

/** A newc cpio archive written by hand, so tests can forge what rpmbuild refuses to make. */
function cpio(members: CpioSpec[]): Buffer {
  const parts: Buffer[] = [];
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  for (const [i, m] of [...members, { name: 'TRAILER!!!', mode: 0 }].entries()) {
    const data = Buffer.from(m.data ?? '');
    const name = Buffer.from(`${m.name}\0`);
    const hex = (v: number) => v.toString(16).padStart(8, '0');
    const fields = [
      m.ino ?? i + 1,
      m.mode,
      0,
      0,
      m.nlink ?? 1,
      1_700_000_000,
      data.length,
      0,
      0,
      0,
      0,
      name.length,
      0,
    ];
    const header = Buffer.from(`070701${fields.map(hex).join('')}`, 'latin1');
    parts.push(header, name, pad(header.length + name.length), data, pad(data.length));
  }
  return Buffer.concat(parts);
}

async function extractCpio(archive: Buffer) {
  const dest = await tempDir();
  const summary = await extractTarStream(Readable.from([archive]), dest, {
    where: 'test.cpio',
    compression: 'none',
    convert: () => new CpioToTar('test.cpio'),
  });
  return { dest, summary };
}

const FILE = 0o100644;
const DIR = 0o040755;
const LINK = 0o120777;

describe('cpio payloads through CpioToTar + TarGuard', () => {
  it('extracts files, directories, symlinks and hard links', async () => {
    const { dest, summary } = await extractCpio(
      cpio([
        { name: './usr', mode: DIR },
        { name: './usr/a', mode: FILE, ino: 9, nlink: 2 },
        { name: './usr/b', mode: FILE, data: 'shared', ino: 9, nlink: 2 },
        { name: './usr/link', mode: LINK, data: 'b' },
      ]),
    );
    expect(summary.written).toBe(4);
    expect(await readFile(join(dest, 'usr/a'), 'utf8')).toBe('shared');
    expect((await lstat(join(dest, 'usr/a'))).ino).toBe((await lstat(join(dest, 'usr/b'))).ino);
    expect(await readlink(join(dest, 'usr/link'))).toBe('b');
  });

  it.each([
    {
      name: '".." in a name',
      members: [{ name: '../escape', mode: FILE, data: 'x' }],
      why: /"\.\." would escape/,
    },
    {
      name: 'an absolute name',
      members: [{ name: '/etc/passwd', mode: FILE, data: 'x' }],
      why: /absolute path/,
    },
    {
      name: 'a write through a symlink that points outside',
      members: [
        { name: 'lib', mode: LINK, data: '/tmp' },
        { name: 'lib/owned', mode: FILE, data: 'x' },
      ],
      why: /written through the symlink "lib"/,
    },
    {
      name: 'a symlink replaced by a file',
      members: [
        { name: 'cfg', mode: LINK, data: '../../etc/shadow' },
        { name: 'cfg', mode: FILE, data: 'x' },
      ],
      why: /replace a symlink/,
    },
    {
      name: 'a device node',
      members: [{ name: 'dev/sda', mode: 0o060644 }],
      why: /file type 060000 is not allowed/,
    },
  ])('refuses $name, naming the member', async ({ members, why }) => {
    const error = await extractCpio(cpio(members)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(/^test\.cpio: refusing to extract member/);
    expect((error as Error).message).toMatch(why);
  });

  it('refuses a payload cut short before its trailer', async () => {
    const archive = cpio([{ name: 'a', mode: FILE, data: 'hello' }]);
    await expect(extractCpio(archive.subarray(0, 120))).rejects.toThrow(/TRAILER|truncated|ends/);
  });

  it('an RPM whose payload was swapped for a malicious one: digests refuse it; unverified, the guard does', async () => {
    const srpm = await buildSrpm('w9.gzdio');
    const info = await readRpm(srpm);
    const head = (await readFile(srpm)).subarray(0, info.payloadOffset);
    await writeFile(
      srpm,
      Buffer.concat([head, gzipSync(cpio([{ name: '../../evil', mode: FILE, data: 'x' }]))]),
    );
    await expect(extractRpm(srpm, join(await tempDir(), 'a'))).rejects.toThrow(
      /payload sha256 mismatch|not a valid RPM/,
    );
    await expect(extractRpm(srpm, join(await tempDir(), 'b'), { verify: false })).rejects.toThrow(
      /refusing to extract member "\.\.\/\.\.\/evil"/,
    );
  });
});
