import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPatches, withAppliedPatches } from '../../src/patch/apply-patches.js';
import { filePatch, makeTree, NUMBERED, replaceLines, treeState, writePatch } from './support.js';

const PATCHED = replaceLines(NUMBERED, { 5: 'five', 20: 'twenty', 35: 'thirty-five' });
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A tree and a series that modifies, creates (in a new directory) and deletes files. */
async function setup() {
  const tree = await makeTree({
    'src/a.c': NUMBERED,
    'src/b.c': 'int b;\n',
    'src/keep.c': 'int k;\n',
    'gone/only.c': 'x\n',
  });
  const patchDir = await mkdtemp(join(tmpdir(), 'kpatch-patches-'));
  dirs.push(tree, patchDir);
  const first = await writePatch(
    patchDir,
    '1.patch',
    filePatch('src/a.c', NUMBERED, PATCHED),
    filePatch('src/new/dir/n.c', undefined, 'int n;\n'),
  );
  const second = await writePatch(
    patchDir,
    '2.patch',
    filePatch('src/a.c', PATCHED, replaceLines(PATCHED, { 5: 'FIVE' })),
    filePatch('src/b.c', 'int b;\n', undefined),
    filePatch('gone/only.c', 'x\n', undefined),
  );
  const bad = await writePatch(patchDir, 'bad.patch', filePatch('src/keep.c', 'int other;\n', 'int k2;\n'));
  return { tree, patches: [first, second], bad };
}

describe('applyPatches', () => {
  it('applies a series, lists what changed, and restore() puts every byte and mtime back', async () => {
    const { tree, patches } = await setup();
    const before = await treeState(tree);
    const applied = await applyPatches(tree, patches);
    expect(applied.changed).toEqual(['src/a.c']);
    expect(applied.created).toEqual(['src/new/dir/n.c']);
    expect(applied.deleted.sort()).toEqual(['gone/only.c', 'src/b.c']);
    expect(await readFile(join(tree, 'src/a.c'), 'utf8')).toBe(replaceLines(PATCHED, { 5: 'FIVE' }));
    await applied.restore();
    expect(applied.restored).toBe(true);
    expect(await treeState(tree)).toEqual(before);
    await applied.restore(); // idempotent
    expect(await treeState(tree)).toEqual(before);
  });

  it('never touches the tree when a later patch does not apply', async () => {
    const { tree, patches, bad } = await setup();
    const before = await treeState(tree);
    await expect(applyPatches(tree, [...patches, bad])).rejects.toMatchObject({
      code: 'patch',
      message: expect.stringMatching(/bad\.patch: src\/keep\.c: hunk #1 @@ -1,1 \+1,1 @@: context mismatch/),
    });
    expect(await treeState(tree)).toEqual(before);
  });

  it('withAppliedPatches restores after the callback fails', async () => {
    const { tree, patches } = await setup();
    const before = await treeState(tree);
    await expect(
      withAppliedPatches(tree, patches, async (applied) => {
        expect(applied.created).toEqual(['src/new/dir/n.c']);
        throw new Error('build failed');
      }),
    ).rejects.toThrow('build failed');
    expect(await treeState(tree)).toEqual(before);
  });

  it('leaves no backup files behind and refuses to start over leftovers of a killed run', async () => {
    const { tree, patches } = await setup();
    const applied = await applyPatches(tree, patches);
    expect((await readdir(join(tree, 'src'))).filter((n) => n.endsWith('.kpatch-orig'))).toEqual([
      '.a.c.kpatch-orig',
      '.b.c.kpatch-orig',
    ]);
    // A second run while the first one's backups exist (as after SIGKILL) must not overwrite them.
    await expect(applyPatches(tree, patches)).rejects.toMatchObject({ code: 'patch' });
    await applied.restore();
    expect((await readdir(join(tree, 'src'))).filter((n) => n.endsWith('.kpatch-orig'))).toEqual([]);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('restores the tree when the process gets %s', async (signal) => {
    const { tree, patches } = await setup();
    const before = await treeState(tree);
    const script = fileURLToPath(new URL('./fixtures/apply-and-wait.ts', import.meta.url));
    const child = execa('node', ['--import', 'tsx', script, tree, ...patches], {
      reject: false,
      buffer: false,
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out);
      });
      child.on('exit', () => reject(new Error(`child exited early: ${out}`)));
    });
    expect(JSON.parse(line)).toMatchObject({ applied: true, changed: ['src/a.c'] });
    expect(await treeState(tree)).not.toEqual(before);
    child.kill(signal);
    const result = await child;
    expect(result.signal).toBe(signal);
    expect(await treeState(tree)).toEqual(before);
  });
});
