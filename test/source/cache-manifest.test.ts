import { cp, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTreeManifest, writeTreeManifest } from '../../src/source/cache-manifest.js';
import { REPO } from '../e2e/support/paths.js';

// A real tree (the repository's examples/, with its module sources and patches) damaged as caches get
// damaged: a file deleted, a file truncated.
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cache-manifest-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

const CASES: Array<[string, (tree: string) => Promise<unknown>, RegExp | 'intact']> = [
  ['untouched', async () => {}, 'intact'],
  ['a file added by a build', (tree) => writeFile(join(tree, 'cmdline.o'), 'object'), 'intact'],
  ['a deleted file', (tree) => rm(join(tree, 'cmdline.patch')), /^cmdline\.patch is missing$/],
  [
    'a truncated file',
    (tree) => truncate(join(tree, 'dirtycow.patch'), 10),
    /^dirtycow\.patch has 10 bytes, not \d+$/,
  ],
  [
    'a file replaced by a directory',
    async (tree) => {
      await rm(join(tree, 'cmdline.patch'));
      await cp(join(tree, 'kbuild-cmdline'), join(tree, 'cmdline.patch'), { recursive: true });
    },
    /^cmdline\.patch is missing$/,
  ],
];

describe('tree manifests', () => {
  it.each(CASES)('%s', async (name, damage, expected) => {
    const tree = join(work, name.replaceAll(' ', '-'));
    await cp(`${REPO}examples`, tree, { recursive: true });
    const manifest = `${tree}.manifest`;
    expect(await writeTreeManifest(tree, manifest)).toBeGreaterThan(5);
    await damage(tree);
    const check = await checkTreeManifest(tree, manifest);
    if (expected === 'intact') expect(check).toEqual({ state: 'intact' });
    else expect(check).toEqual({ state: 'damaged', problems: [expect.stringMatching(expected)] });
  });

  it('is unknown without a manifest (a tree cached before manifests, or never finished)', async () => {
    expect(await checkTreeManifest(work, join(work, 'none.manifest'))).toEqual({ state: 'unknown' });
  });
});
