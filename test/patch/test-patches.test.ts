import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatHunkNote } from '../../src/patch/hunk-notes.js';
import { formatHunkFailure, patchTestError, testPatches } from '../../src/patch/test-patches.js';
import { filePatch, makeTree, NUMBERED, replaceLines, treeState, writePatch } from './support.js';

const THREE_HUNKS = replaceLines(NUMBERED, { 5: 'five', 20: 'twenty', 35: 'thirty-five' });
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface Case {
  name: string;
  tree: Record<string, string>;
  patches: string[][];
  ok: boolean;
  failures?: Array<{ patch: number; file: string; hunk?: number; header?: string; reason: string }>;
  untested?: number[];
  touched?: string[];
}

const cases: Case[] = [
  {
    name: 'a missing file',
    tree: { 'src/a.c': NUMBERED },
    patches: [[filePatch('src/missing.c', NUMBERED, THREE_HUNKS)]],
    ok: false,
    failures: [
      { patch: 0, file: 'src/missing.c', hunk: 1, header: '@@ -2,7 +2,7 @@', reason: 'file-missing' },
    ],
  },
  {
    name: 'a context mismatch in hunk 2 of 3',
    tree: { 'src/a.c': replaceLines(NUMBERED, { 19: 'nineteen', 21: 'x', 22: 'y' }) },
    patches: [[filePatch('src/a.c', NUMBERED, THREE_HUNKS)]],
    ok: false,
    failures: [
      { patch: 0, file: 'src/a.c', hunk: 2, header: '@@ -17,7 +17,7 @@', reason: 'context-mismatch' },
    ],
  },
  {
    name: 'an already applied patch',
    tree: { 'src/a.c': THREE_HUNKS },
    patches: [[filePatch('src/a.c', NUMBERED, THREE_HUNKS)]],
    ok: false,
    failures: [{ patch: 0, file: 'src/a.c', hunk: 1, reason: 'already-applied' }],
  },
  {
    name: 'one hunk (not the first) already applied',
    tree: { 'src/a.c': replaceLines(NUMBERED, { 20: 'twenty' }) },
    patches: [[filePatch('src/a.c', NUMBERED, THREE_HUNKS)]],
    ok: false,
    failures: [
      { patch: 0, file: 'src/a.c', hunk: 2, header: '@@ -17,7 +17,7 @@', reason: 'already-applied' },
    ],
  },
  {
    name: 'a second patch that depends on the first',
    tree: { 'src/a.c': NUMBERED },
    patches: [
      [filePatch('src/a.c', NUMBERED, THREE_HUNKS)],
      [filePatch('src/a.c', THREE_HUNKS, replaceLines(THREE_HUNKS, { 5: 'FIVE' }))],
    ],
    ok: true,
    touched: ['src/a.c'],
  },
  {
    name: 'a failing first patch leaves the second untested',
    tree: { 'src/a.c': THREE_HUNKS },
    patches: [
      [filePatch('src/a.c', NUMBERED, THREE_HUNKS)],
      [filePatch('src/a.c', THREE_HUNKS, replaceLines(THREE_HUNKS, { 5: 'FIVE' }))],
    ],
    ok: false,
    failures: [{ patch: 0, file: 'src/a.c', hunk: 1, reason: 'already-applied' }],
    untested: [1],
  },
  {
    name: 'a new file in a new directory',
    tree: { 'src/a.c': NUMBERED },
    patches: [[filePatch('src/new/dir/n.c', undefined, 'int n;\n')]],
    ok: true,
    touched: ['src/new/dir/n.c'],
  },
  {
    name: 'a new file that already exists',
    tree: { 'src/n.c': 'int n;\n' },
    patches: [[filePatch('src/n.c', undefined, 'int n;\n')]],
    ok: false,
    failures: [{ patch: 0, file: 'src/n.c', hunk: 1, header: '@@ -0,0 +1,1 @@', reason: 'already-applied' }],
  },
  {
    name: 'a deleted file',
    tree: { 'src/a.c': NUMBERED, 'src/b.c': 'int b;\n' },
    patches: [[filePatch('src/b.c', 'int b;\n', undefined)]],
    ok: true,
    touched: ['src/b.c'],
  },
  {
    name: 'a deleted file that is already gone',
    tree: { 'src/a.c': NUMBERED },
    patches: [[filePatch('src/b.c', 'int b;\n', undefined)]],
    ok: false,
    failures: [{ patch: 0, file: 'src/b.c', hunk: 1, reason: 'file-missing' }],
  },
  {
    name: 'a patch that applies with an offset (GNU patch semantics)',
    tree: { 'src/a.c': `extra 1\nextra 2\nextra 3\n${NUMBERED}` },
    patches: [[filePatch('src/a.c', NUMBERED, THREE_HUNKS)]],
    ok: true,
    touched: ['src/a.c'],
  },
];

describe('testPatches', () => {
  it.each(cases)('reports $name', async (c) => {
    const tree = await makeTree(c.tree);
    const patchDir = await mkdtemp(join(tmpdir(), 'kpatch-patches-'));
    dirs.push(tree, patchDir);
    const patchFiles: string[] = [];
    for (const [i, parts] of c.patches.entries())
      patchFiles.push(await writePatch(patchDir, `${i}.patch`, ...parts));
    const before = await treeState(tree);
    const report = await testPatches(tree, patchFiles);
    expect(await treeState(tree)).toEqual(before); // only ever read
    expect(report.ok).toBe(c.ok);
    const got = report.failures.map((f) => ({
      patch: patchFiles.indexOf(f.patchFile),
      file: f.file,
      hunk: f.hunk,
      header: f.header,
      reason: f.reason,
    }));
    expect(got).toEqual((c.failures ?? []).map((f) => expect.objectContaining(f)));
    expect(report.untested).toEqual((c.untested ?? []).map((i) => patchFiles[i]));
    if (c.touched) expect(report.touched).toEqual(c.touched);
    if (!c.ok) {
      const error = patchTestError(report);
      expect(error.code).toBe('patch');
      for (const f of report.failures) expect(error.message).toContain(formatHunkFailure(f));
    }
  });

  it('names patch, file, hunk number, header and reason in one line', async () => {
    const tree = await makeTree({ 'src/a.c': replaceLines(NUMBERED, { 19: 'nineteen', 21: 'x', 22: 'y' }) });
    const patchDir = await mkdtemp(join(tmpdir(), 'kpatch-patches-'));
    dirs.push(tree, patchDir);
    const patch = await writePatch(patchDir, 'fix.patch', filePatch('src/a.c', NUMBERED, THREE_HUNKS));
    const report = await testPatches(tree, [patch]);
    expect(formatHunkFailure(report.failures[0]!)).toMatch(
      /fix\.patch: src\/a\.c: hunk #2 @@ -17,7 \+17,7 @@: context mismatch: context does not match src\/a\.c near line 17/,
    );
  });

  it('notes hunks applied with an offset', async () => {
    const tree = await makeTree({ 'src/a.c': `extra\n${NUMBERED}` });
    const patchDir = await mkdtemp(join(tmpdir(), 'kpatch-patches-'));
    dirs.push(tree, patchDir);
    const patch = await writePatch(patchDir, 'fix.patch', filePatch('src/a.c', NUMBERED, THREE_HUNKS));
    const report = await testPatches(tree, [patch]);
    expect(report.notes.map((n) => [n.hunk, n.offset])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
  });

  // Line 18 is context of hunk 2 (lines 17-23 around line 20): changed in the tree, the hunk applies
  // only with fuzz, which can put a livepatch's change in the wrong place.
  const FUZZY_TREE = { 'src/a.c': replaceLines(NUMBERED, { 18: 'line eighteen, edited' }) };

  it('refuses a hunk that applies only with fuzz, showing the line that differs', async () => {
    const tree = await makeTree(FUZZY_TREE);
    const patchDir = await mkdtemp(join(tmpdir(), 'kpatch-patches-'));
    dirs.push(tree, patchDir);
    const patch = await writePatch(patchDir, 'fix.patch', filePatch('src/a.c', NUMBERED, THREE_HUNKS));
    const report = await testPatches(tree, [patch]);
    expect(report.ok).toBe(false);
    expect(report.failures.map((f) => [f.hunk, f.reason])).toEqual([[2, 'fuzz']]);
    const error = patchTestError(report);
    expect(error.message).toContain('hunk #2 @@ -17,7 +17,7 @@');
    expect(error.message).toContain(
      'line 18: the patch expects "line 18", the file has "line eighteen, edited"',
    );
    expect(error.hint).toMatch(/--allow-fuzz/);
  });

  it('applies it with allowFuzz and notes the fuzz', async () => {
    const tree = await makeTree(FUZZY_TREE);
    const patchDir = await mkdtemp(join(tmpdir(), 'kpatch-patches-'));
    dirs.push(tree, patchDir);
    const patch = await writePatch(patchDir, 'fix.patch', filePatch('src/a.c', NUMBERED, THREE_HUNKS));
    const report = await testPatches(tree, [patch], { allowFuzz: true });
    expect(report.ok).toBe(true);
    expect(report.notes.map((n) => [n.hunk, n.fuzz])).toEqual([[2, 2]]);
    expect(formatHunkNote(report.notes[0]!)).toMatch(
      /fix\.patch: src\/a\.c: hunk #2 @@ -17,7 \+17,7 @@ applied at its line with fuzz 2 \(--allow-fuzz/,
    );
  });

  it('refuses paths outside the tree', async () => {
    const tree = await makeTree({ 'src/a.c': NUMBERED });
    const patchDir = await mkdtemp(join(tmpdir(), 'kpatch-patches-'));
    dirs.push(tree, patchDir);
    const patch = await writePatch(patchDir, 'evil.patch', filePatch('../outside.c', undefined, 'x\n'));
    await expect(testPatches(tree, [patch])).rejects.toMatchObject({ code: 'patch' });
  });
});
