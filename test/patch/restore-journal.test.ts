import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recoverKilledRun } from '../../src/patch/restore-journal.js';
import { takeSnapshot } from '../../src/patch/tree-snapshot.js';

let tree: string;
afterEach(async () => {
  await rm(tree, { recursive: true, force: true });
});

describe('recoverKilledRun', () => {
  it('puts back a tree whose run died with its patches applied (no restore ran)', async () => {
    tree = await mkdtemp(join(tmpdir(), 'restore-journal-'));
    await mkdir(join(tree, 'fs'));
    await writeFile(join(tree, 'fs/a.c'), 'original\n');
    // What a run does before it is killed: snapshot, then patch (edit one file, create another).
    takeSnapshot(tree, ['fs/a.c', 'fs/new/b.c']);
    await writeFile(join(tree, 'fs/a.c'), 'patched\n');
    await mkdir(join(tree, 'fs/new'));
    await writeFile(join(tree, 'fs/new/b.c'), 'created\n');

    expect(recoverKilledRun(tree).sort()).toEqual(['fs/a.c', 'fs/new/b.c']);
    expect(await readFile(join(tree, 'fs/a.c'), 'utf8')).toBe('original\n');
    expect(existsSync(join(tree, 'fs/new/b.c'))).toBe(false);
    expect((await readdir(join(tree, 'fs'))).filter((f) => f.includes('kpatch'))).toEqual([]);
    expect((await readdir(tree)).filter((f) => f.includes('kpatch'))).toEqual([]);
    expect(recoverKilledRun(tree)).toEqual([]);
  });

  it('finds nothing to do after a restore that ran', async () => {
    tree = await mkdtemp(join(tmpdir(), 'restore-journal-'));
    await writeFile(join(tree, 'a.c'), 'original\n');
    const snapshot = takeSnapshot(tree, ['a.c']);
    await writeFile(join(tree, 'a.c'), 'patched\n');
    snapshot.restoreSync();
    expect(recoverKilledRun(tree)).toEqual([]);
    expect(await readFile(join(tree, 'a.c'), 'utf8')).toBe('original\n');
  });
});
