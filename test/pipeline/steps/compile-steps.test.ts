import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PatchError } from '../../../src/errors.js';
import { recordTouchedObjects, testPatchFiles } from '../../../src/pipeline/steps/compile-steps.js';
import { filePatch, makeTree, NUMBERED, replaceLines, writePatch } from '../../patch/support.js';
import { fakeJob, fakeRun, fakeTarget, recordingContext, recordingToolchain } from '../support.js';

describe('recordTouchedObjects', () => {
  it('has kbuild compile just the touched .c files of a prepared tree, through the target toolchain', async () => {
    const tree = await makeTree({ 'fs/proc/cmdline.c': NUMBERED, 'mm/memory.c': NUMBERED });
    const toolchain = recordingToolchain();
    await recordTouchedObjects(
      fakeRun(fakeTarget(tree, { toolchain })),
      ['fs/proc/cmdline.c', 'mm/memory.c'],
      undefined,
    );
    expect(toolchain.makes.map((m) => [m.dir, m.args])).toEqual([
      [tree, ['-j2', 'fs/proc/cmdline.o', 'mm/memory.o']],
    ]);
    expect(toolchain.makes[0]?.logFile).toBe(join(tree, '.kpatch-build-objects.log'));
  });

  it('compiles nothing in a tree that has its records (built, or fully built once)', async () => {
    const tree = await makeTree({ 'fs/proc/cmdline.c': NUMBERED });
    const toolchain = recordingToolchain();
    await recordTouchedObjects(
      fakeRun(fakeTarget(tree, { toolchain, touched: 'recorded' })),
      ['fs/proc/cmdline.c', 'include/linux/fs.h'],
      undefined,
    );
    expect(toolchain.makes).toEqual([]);
  });

  it('also compiles the objects a header plan keeps, and refuses a changed .S file naming --full-build', async () => {
    const tree = await makeTree({ 'fs/proc/cmdline.c': NUMBERED });
    const toolchain = recordingToolchain();
    const run = fakeRun(fakeTarget(tree, { toolchain }));
    const headers = {
      kept: new Set(['kernel/sched/core.o']),
      summary: {
        headers: ['include/linux/sched.h'],
        indexed: 9,
        includers: 5,
        pruned: 4,
        compiled: [],
        names: [],
      },
    };
    await recordTouchedObjects(run, ['fs/proc/cmdline.c', 'include/linux/sched.h'], headers);
    expect(toolchain.makes.map((m) => m.args)).toEqual([['-j2', 'fs/proc/cmdline.o', 'kernel/sched/core.o']]);
    const error = await recordTouchedObjects(run, ['arch/x86/entry/entry_64.S'], undefined).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PatchError);
    expect((error as PatchError).message).toBe(
      'the patch changes arch/x86/entry/entry_64.S, not only .c and .h files',
    );
    expect((error as PatchError).hint).toMatch(/--full-build \(builds Fake kernel 1\.0 once/);
    expect(toolchain.makes).toHaveLength(1);
  });
});

describe('testPatchFiles', () => {
  it('names the touched files and announces the phase', async () => {
    const tree = await makeTree({ 'fs/proc/cmdline.c': NUMBERED });
    const patch = await writePatch(
      tree,
      'p.patch',
      filePatch('fs/proc/cmdline.c', NUMBERED, replaceLines(NUMBERED, { 5: 'changed' })),
    );
    const ctx = recordingContext();
    const tested = await testPatchFiles(fakeRun(fakeTarget(tree), ctx, fakeJob({ patches: [patch] })));
    expect(tested).toEqual({ touched: ['fs/proc/cmdline.c'], hunks: [] });
    expect(ctx.events).toEqual([{ kind: 'phase', message: 'Testing patch file(s)' }]);
  });

  it('throws the patch test error when a hunk does not apply', async () => {
    const tree = await makeTree({ 'fs/proc/cmdline.c': NUMBERED });
    const other = replaceLines(NUMBERED, { 5: 'something else' });
    const patch = await writePatch(
      tree,
      'p.patch',
      filePatch('fs/proc/cmdline.c', other, replaceLines(other, { 5: 'changed' })),
    );
    const run = fakeRun(fakeTarget(tree), recordingContext(), fakeJob({ patches: [patch] }));
    await expect(testPatchFiles(run)).rejects.toBeInstanceOf(PatchError);
  });

  // Line 8 is context of the hunk around line 10: edited in the tree, the hunk applies only with fuzz.
  async function fuzzyRun(allowFuzz: boolean) {
    const tree = await makeTree({ 'fs/proc/cmdline.c': replaceLines(NUMBERED, { 8: 'line eight, edited' }) });
    const patch = await writePatch(
      tree,
      'p.patch',
      filePatch('fs/proc/cmdline.c', NUMBERED, replaceLines(NUMBERED, { 10: 'changed' })),
    );
    const ctx = recordingContext();
    return { ctx, run: fakeRun(fakeTarget(tree), ctx, fakeJob({ patches: [patch], allowFuzz })) };
  }

  it('refuses a hunk that needs fuzz unless the job allows it', async () => {
    const { run } = await fuzzyRun(false);
    const error = await testPatchFiles(run).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PatchError);
    expect((error as PatchError).message).toMatch(/hunk #1 .*: fuzz: applies only with fuzz/);
    expect((error as PatchError).hint).toMatch(/--allow-fuzz/);
  });

  it('with allowFuzz applies it, returns the hunk and emits it as a note', async () => {
    const { ctx, run } = await fuzzyRun(true);
    const tested = await testPatchFiles(run);
    expect(tested.hunks.map((h) => [h.file, h.hunk, h.fuzz > 0])).toEqual([['fs/proc/cmdline.c', 1, true]]);
    expect(ctx.events).toContainEqual({
      kind: 'note',
      message: expect.stringMatching(/p\.patch: fs\/proc\/cmdline\.c: hunk #1 @@ .* applied .* with fuzz \d/),
    });
  });
});
