import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BuildError,
  InterruptedError,
  type KpatchError,
  NoChangeError,
  PatchError,
} from '../../src/errors.js';
import { buildLivepatch } from '../../src/pipeline/build-livepatch.js';
import { filePatch, makeTree, NUMBERED, replaceLines, writePatch } from '../patch/support.js';
import { fakeJob, fakeTarget, recordingContext, recordingToolchain } from './support.js';

const CMD = [
  'savedcmd_fs/proc/cmdline.o := true -Wp,-MMD,fs/proc/.cmdline.o.d -c -o fs/proc/cmdline.o fs/proc/cmdline.c',
  '',
  'source_fs/proc/cmdline.o := fs/proc/cmdline.c',
  '',
].join('\n');

/** A prepared tree whose one object has a kbuild record, and a patch to its source (kept outside the tree). */
async function fakeTreeAndPatch(file = 'fs/proc/cmdline.c') {
  const tree = await makeTree({
    Makefile: '',
    'fs/proc/cmdline.c': NUMBERED,
    'mm/memory.c': NUMBERED,
    'fs/proc/.cmdline.o.cmd': CMD,
  });
  const patchDir = await makeTree({});
  const patch = await writePatch(
    patchDir,
    'p.patch',
    filePatch(file, NUMBERED, replaceLines(NUMBERED, { 5: 'changed' })),
  );
  return { tree, patch };
}

const kept = (events: { kind: string; message?: string }[]) =>
  events.find((e) => e.kind === 'note' && e.message?.startsWith('work directory kept: '))?.message?.slice(21);

describe('buildLivepatch over a fake target', () => {
  it('runs the steps in order up to the compile; a failed compile keeps the work dir and names build.log', async () => {
    const { tree, patch } = await fakeTreeAndPatch();
    const toolchain = recordingToolchain();
    toolchain.compile = async (options) => {
      toolchain.compiles.push(options.object.target);
      throw new BuildError(`compiling ${options.object.target} failed: fake`);
    };
    const ctx = recordingContext();
    const error = (await buildLivepatch(
      fakeTarget(tree, { toolchain }),
      fakeJob({ patches: [patch] }),
      ctx,
    ).catch((e: unknown) => e)) as KpatchError;
    expect(error).toBeInstanceOf(BuildError);
    expect(toolchain.makes.map((m) => m.args)).toEqual([['-j2', 'fs/proc/cmdline.o']]);
    expect(toolchain.compiles).toEqual(['fs/proc/cmdline.o']);
    expect(ctx.events.filter((e) => e.kind === 'step').map((e) => e.kind === 'step' && e.step)).toEqual([
      'checks',
      'patch test',
      'affected objects',
      'build original',
    ]);
    expect(ctx.events.filter((e) => e.kind === 'phase').map((e) => e.kind === 'phase' && e.message)).toEqual([
      'Testing patch file(s)',
      'Building original source',
    ]);
    const workDir = kept(ctx.events);
    expect(workDir).toBeDefined();
    expect(error.logPath).toBe(join(workDir!, 'build.log'));
    const log = readFileSync(error.logPath!, 'utf8');
    expect(log).toMatch(/\] Testing patch file\(s\)\n/);
    expect(log).toMatch(/\] failed: compiling fs\/proc\/cmdline\.o failed: fake\n/);
    expect(existsSync(join(tree, '.kpatch-build.lock'))).toBe(false);
    expect(readFileSync(join(tree, 'fs/proc/cmdline.c'), 'utf8')).toBe(NUMBERED);
    await rm(workDir!, { recursive: true, force: true });
  });

  it('stops before compiling when no object is built from the patched file, and removes the work dir', async () => {
    const { tree, patch } = await fakeTreeAndPatch('mm/memory.c');
    const toolchain = recordingToolchain();
    const ctx = recordingContext();
    const target = fakeTarget(tree, { toolchain, touched: 'recorded' });
    const error = await buildLivepatch(target, fakeJob({ patches: [patch] }), ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoChangeError);
    expect((error as NoChangeError).message).toBe(
      'no object of this kernel build is compiled from mm/memory.c',
    );
    expect((error as NoChangeError).logPath).toBeUndefined();
    expect(kept(ctx.events)).toBeUndefined();
    expect(toolchain.makes).toEqual([]);
    expect(toolchain.compiles).toEqual([]);
  });

  it('refuses more affected objects than the context allows, before compiling', async () => {
    const { tree, patch } = await fakeTreeAndPatch();
    const toolchain = recordingToolchain();
    const target = fakeTarget(tree, { toolchain, touched: 'recorded' });
    const run = buildLivepatch(target, fakeJob({ patches: [patch] }), recordingContext({ maxObjects: 0 }));
    await expect(run).rejects.toThrow(PatchError);
    await expect(run).rejects.toThrow('the patch reaches 1 objects');
    expect(toolchain.compiles).toEqual([]);
  });

  // Stopped by the user while compiling: the work dir goes, unless -d or --skip-cleanup asks to keep it.
  it.each([
    ['no option', {}, false],
    ['-d', { keepWorkDir: true }, true],
    ['--skip-cleanup', { skipCleanup: true }, true],
  ] as const)('an interrupt during the compile with %s: work dir kept = %s', async (_, options, keep) => {
    const { tree, patch } = await fakeTreeAndPatch();
    const toolchain = recordingToolchain();
    toolchain.compile = async () => {
      throw new InterruptedError('SIGTERM');
    };
    const ctx = recordingContext();
    const error = await buildLivepatch(
      fakeTarget(tree, { toolchain }),
      fakeJob({ patches: [patch], ...options }),
      ctx,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    const workDir = kept(ctx.events);
    expect(workDir !== undefined).toBe(keep);
    expect(existsSync(join(tree, '.kpatch-build.lock'))).toBe(false);
    expect(readFileSync(join(tree, 'fs/proc/cmdline.c'), 'utf8')).toBe(NUMBERED);
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });
});
