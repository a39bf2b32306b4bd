import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRootDir, ensureBuildRoot } from '../../src/kbuild/build-root.js';

const spec = { suite: 'trixie', compilerPackage: 'gcc-14', compilerVersion: '14.2.0-19' };

describe('ensureBuildRoot with a root already in the cache', () => {
  let cache: string;
  beforeAll(async () => {
    cache = await mkdtemp(join(tmpdir(), 'kpatch-roots-'));
  });
  afterAll(async () => {
    await rm(cache, { recursive: true, force: true });
  });

  it('returns it from its stamp without running mmdebstrap or taking the lock', async () => {
    const dir = buildRootDir(spec, cache);
    await mkdir(join(dir, 'root/usr/bin'), { recursive: true });
    await writeFile(join(dir, 'root/usr/bin/gcc-14'), '');
    const compilerText = 'gcc-14 (Debian 14.2.0-19) 14.2.0';
    await writeFile(
      join(dir, 'root.json'),
      JSON.stringify({ format: 1, spec, compilerText, createdAt: '2026-12-06T00:00:00Z', seconds: 66 }),
    );
    const root = await ensureBuildRoot(spec, { cacheDir: cache, mirror: 'http://127.0.0.1:9/none' });
    expect(root).toEqual({ root: join(dir, 'root'), spec, compilerText, cached: true });
    expect((await readdir(join(cache, 'build-roots'))).sort()).toEqual(['trixie-gcc-14-14.2.0-19']);
  });

  it('does not trust a stamp whose compiler is missing from the root (a damaged root is made again)', async () => {
    const other = { ...spec, compilerVersion: '14.2.0-20' };
    const dir = buildRootDir(other, cache);
    await mkdir(join(dir, 'root'), { recursive: true });
    await writeFile(join(dir, 'root.json'), JSON.stringify({ format: 1, spec: other, compilerText: 'x' }));
    // Creating it for real needs mmdebstrap and the network: an unreachable mirror makes it fail fast,
    // which shows the stamp alone was not taken for a root, and leaves no temporary directory.
    await expect(
      ensureBuildRoot(other, {
        cacheDir: cache,
        mirror: 'http://127.0.0.1:9/debian',
        securityMirror: 'http://127.0.0.1:9/s',
      }),
    ).rejects.toMatchObject({
      code: 'build',
      message: expect.stringMatching(/creating the trixie build root failed/),
    });
    const left = await readdir(join(cache, 'build-roots'));
    expect(left.filter((name) => name.includes('.tmp-'))).toEqual([]);
  }, 120_000);
});
