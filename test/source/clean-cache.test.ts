import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanCache } from '../../src/source/clean-cache.js';

let cache: string;
const holdLock = new URL('./support/hold-lock.ts', import.meta.url).pathname;

async function makeEntry(release: string): Promise<string> {
  const dir = join(cache, 'targets', 'debian', release);
  await mkdir(join(dir, 'source', 'fs', 'proc'), { recursive: true });
  await mkdir(join(dir, 'root', 'boot'), { recursive: true });
  await writeFile(join(dir, 'target.json'), '{}');
  await writeFile(join(dir, 'source.json'), '{}');
  await writeFile(join(dir, 'source', 'fs', 'proc', 'cmdline.c'), 'int x;\n');
  await writeFile(join(dir, 'root', 'boot', 'vmlinuz'), 'image');
  return dir;
}

beforeAll(async () => {
  cache = await mkdtemp(join(tmpdir(), 'clean-cache-'));
  await mkdir(join(cache, 'debs'));
  await writeFile(join(cache, 'debs', 'linux-source.deb'), 'shared download');
});
afterAll(() => rm(cache, { recursive: true, force: true }));

describe('cleanCache', () => {
  it('removes one release and keeps the others and the downloads', async () => {
    await makeEntry('6.1.0-56-amd64');
    await makeEntry('6.1.0-57-amd64');
    expect(await cleanCache(cache, 'debian', '6.1.0-57-amd64')).toEqual(['6.1.0-57-amd64']);
    expect(await readdir(join(cache, 'targets', 'debian'))).toEqual(['6.1.0-56-amd64']);
    expect(existsSync(join(cache, 'debs', 'linux-source.deb'))).toBe(true);
    expect(await cleanCache(cache, 'debian', '6.1.0-57-amd64')).toEqual([]);
  });

  it('waits for a run holding the tree lock before removing anything', async () => {
    const dir = await makeEntry('6.1.0-58-amd64');
    const holder = execa('node', [
      '--import',
      'tsx',
      holdLock,
      join(dir, 'source', '.kpatch-build.lock'),
      '1500',
    ]);
    await new Promise<void>((resolve) => holder.stdout?.once('data', () => resolve()));
    const cleaning = cleanCache(cache, 'debian', '6.1.0-58-amd64');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(existsSync(join(dir, 'source', 'fs', 'proc', 'cmdline.c'))).toBe(true); // still in use
    expect(await cleaning).toEqual(['6.1.0-58-amd64']);
    await holder;
    expect(existsSync(dir)).toBe(false);
  });

  it.each(['..', '../../etc', 'a/b'])('refuses %j as a release', async (release) => {
    await expect(cleanCache(cache, 'debian', release)).rejects.toMatchObject({ code: 'usage' });
  });
});
