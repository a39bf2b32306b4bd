import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { InterruptedError, SourceError } from '../../src/errors.js';
import { compressionOfName, sniffCompression } from '../../src/source/extract-tar.js';
import { unpackTarball } from '../../src/source/unpack-tarball.js';
import { tempDir } from './helpers.js';

/** A small source tree "linux-source-6.1/…", packed by GNU tar with the given compressor flag. */
async function makeTarball(dir: string, flag: string, ext: string): Promise<string> {
  const src = join(dir, 'src/linux-source-6.1');
  await mkdir(join(src, 'kernel/livepatch'), { recursive: true });
  await mkdir(join(src, 'scripts'), { recursive: true });
  await writeFile(join(src, 'Makefile'), 'VERSION = 6\n');
  await writeFile(join(src, 'kernel/livepatch/core.c'), '/* core */\n');
  await writeFile(join(src, 'scripts/setlocalversion'), '#!/bin/sh\n', { mode: 0o755 });
  await symlink('../kernel/livepatch/core.c', join(src, 'scripts/core-link.c'));
  await writeFile(join(src, 'blob.bin'), randomBytes(200_000));
  const archive = join(dir, `linux-source-6.1.${ext}`);
  await execa('tar', ['-c', flag, '-f', archive, '-C', join(dir, 'src'), 'linux-source-6.1'].filter(Boolean));
  return archive;
}

describe('unpackTarball', () => {
  it.each([
    ['-J', 'tar.xz'],
    ['-z', 'tar.gz'],
    ['--zstd', 'tar.zst'],
    ['-j', 'tar.bz2'],
    ['', 'tar'],
  ])('unpacks a %s archive (.%s) with strip', async (flag, ext) => {
    const dir = await tempDir();
    const archive = await makeTarball(dir, flag, ext);
    const dest = join(dir, 'tree');
    const result = await unpackTarball(archive, dest, { strip: 1 });
    expect(result).toEqual({ dir: dest, written: 8, skipped: 1 });
    expect(await readFile(join(dest, 'Makefile'), 'utf8')).toBe('VERSION = 6\n');
    expect(await readlink(join(dest, 'scripts/core-link.c'))).toBe('../kernel/livepatch/core.c');
    expect(await readFile(join(dest, 'scripts/core-link.c'), 'utf8')).toBe('/* core */\n');
    expect(await readFile(join(dest, 'blob.bin'))).toEqual(
      await readFile(join(dir, 'src/linux-source-6.1/blob.bin')),
    );
    expect(existsSync(join(dest, 'linux-source-6.1'))).toBe(false);
  });

  it('without strip keeps the top directory; filter applies after strip', async () => {
    const dir = await tempDir();
    const archive = await makeTarball(dir, '-J', 'tar.xz');
    await unpackTarball(archive, join(dir, 'a'));
    expect(await readdir(join(dir, 'a'))).toEqual(['linux-source-6.1']);
    await unpackTarball(archive, join(dir, 'b'), { strip: 1, filter: ['kernel/**', 'Makefile'] });
    expect((await readdir(join(dir, 'b'))).sort()).toEqual(['Makefile', 'kernel']);
  });

  it('an interrupted unpack leaves neither a tree nor a staging directory', async () => {
    const dir = await tempDir();
    const archive = await makeTarball(dir, '-J', 'tar.xz');
    const controller = new AbortController();
    const error = await unpackTarball(archive, join(dir, 'tree'), {
      signal: controller.signal,
      onEntry: () => controller.abort(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect((await readdir(dir)).sort()).toEqual(['linux-source-6.1.tar.xz', 'src']);
  });

  it('cleans up a staging directory left by a killed run', async () => {
    const dir = await tempDir();
    const archive = await makeTarball(dir, '-z', 'tar.gz');
    const { stdout: host } = await execa('hostname');
    const exited = execa('true');
    const pid = exited.pid; // an exited process: its pid is (almost surely) free
    await exited;
    const stale = join(dir, `.tree.partial.${pid}@${host.trim()}.AbC123`);
    await mkdir(join(stale, 'half'), { recursive: true });
    await unpackTarball(archive, join(dir, 'tree'));
    expect(existsSync(stale)).toBe(false);
  });

  it('reports a corrupt compressed archive naming the file and the tool', async () => {
    const dir = await tempDir();
    const archive = await makeTarball(dir, '-J', 'tar.xz');
    const bytes = await readFile(archive);
    bytes.fill(0x55, 200, 400);
    await writeFile(archive, bytes);
    const error = await unpackTarball(archive, join(dir, 'tree')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    // Either xz notices first, or the guard meets the garbage xz produced before noticing.
    expect((error as Error).message).toMatch(
      /linux-source-6\.1\.tar\.xz: (xz failed: .*(corrupt|format)|bad tar header checksum)/i,
    );
    expect((error as SourceError).hint).toMatch(/corrupt/);
    expect(existsSync(join(dir, 'tree'))).toBe(false);
  });

  it('names a missing archive', async () => {
    const dir = await tempDir();
    await expect(unpackTarball(join(dir, 'nope.tar.xz'), join(dir, 't'))).rejects.toThrow(
      /nope\.tar\.xz: cannot open: ENOENT/,
    );
  });

  it('detects compression from magic bytes and names', () => {
    expect(sniffCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe('xz');
    expect(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(sniffCompression(Buffer.from([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(sniffCompression(Buffer.from('BZh9'))).toBe('bzip2');
    expect(sniffCompression(Buffer.from('linux/'))).toBe('none');
    expect(compressionOfName('data.tar.zst')).toBe('zstd');
    expect(compressionOfName('x.tgz')).toBe('gzip');
    expect(compressionOfName('data.tar')).toBe('none');
    expect(compressionOfName('x.zip')).toBeUndefined();
  });
});
