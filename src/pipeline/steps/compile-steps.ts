/**
 * The steps that use the kernel tree itself, run under its lock: restore a killed run, test the patches,
 * record the touched objects, index kbuild's records, find the affected objects, compile each twice.
 */
import { join } from 'node:path';
import { probeStructSizes } from '../../diff/probe-struct-sizes.js';
import type { StructSizes } from '../../diff/struct-sizes.js';
import { NoChangeError, PatchError } from '../../errors.js';
import { buildSingleObjects } from '../../kbuild/build-single-objects.js';
import type { AffectedObjects } from '../../kbuild/find-affected-objects.js';
import { findAffectedObjects } from '../../kbuild/find-affected-objects.js';
import type { KbuildIndex } from '../../kbuild/kbuild-index.js';
import { buildKbuildIndex } from '../../kbuild/kbuild-index.js';
import { formatHunkNote } from '../../patch/hunk-notes.js';
import { recoverKilledRun } from '../../patch/restore-journal.js';
import type { HunkNote } from '../../patch/test-patches.js';
import { patchTestError, testPatches } from '../../patch/test-patches.js';
import type { BuildObjectsOptions } from '../build-objects.js';
import { compileOriginalObjects, compilePatchedObjects } from '../build-objects.js';
import type { BuildRun } from '../build-run.js';
import type { HeaderPlan } from './header-steps.js';
import { resolveParents } from './object-parents.js';

/** Under the tree's lock: a record left by a killed run can be acted on safely. */
export function restoreKilledRun(run: BuildRun): void {
  const recovered = recoverKilledRun(run.patchRoot);
  if (recovered.length > 0) {
    run.emit({
      kind: 'note',
      message: `restored ${recovered.join(', ')} in ${run.patchRoot}: an earlier run was killed while its patches were applied`,
    });
  }
}

export interface TestedPatches {
  /** The files the patches touch, relative to the patch root. */
  touched: string[];
  /** Hunks that applied at an offset or (with --allow-fuzz) with fuzz, each also emitted as a note. */
  hunks: HunkNote[];
}

/** The patches apply (dry run), exactly or, with --allow-fuzz, with fuzz; each inexact hunk is reported. */
export async function testPatchFiles(run: BuildRun): Promise<TestedPatches> {
  run.emit({ kind: 'phase', message: 'Testing patch file(s)' });
  const test = await testPatches(run.patchRoot, [...run.patches], {
    allowFuzz: run.job.allowFuzz,
    signal: run.ctx.signal,
  });
  if (test.failures.length > 0) throw patchTestError(test);
  for (const note of test.notes) run.emit({ kind: 'note', message: formatHunkNote(note) });
  return { touched: test.touched, hunks: test.notes };
}

const isHeader = (file: string) => file.endsWith('.h');

/**
 * A prepared tree has no record of objects it never built: kbuild compiles the touched .c files and the
 * objects the header changes reach (planPreparedHeaders) first.
 */
export async function recordTouchedObjects(
  run: BuildRun,
  touched: readonly string[],
  headers: HeaderPlan | undefined,
): Promise<void> {
  const { target, ctx } = run;
  if (run.oot || target.touched === 'recorded') return;
  const others = touched.filter((file) => !file.endsWith('.c') && !isHeader(file));
  if (others.length > 0) {
    throw new PatchError(`the patch changes ${others.join(', ')}, not only .c and .h files`, {
      hint:
        'finding every object such a file reaches needs kbuild records of a full build: pass --full-build ' +
        `(builds ${target.label} once, in the cache; Debian's config takes about an hour on 2 cores)`,
    });
  }
  const objects = new Set(
    touched.filter((file) => file.endsWith('.c')).map((file) => file.replace(/\.c$/, '.o')),
  );
  for (const object of headers?.kept ?? []) objects.add(object);
  await buildSingleObjects(target.tree, [...objects], {
    logFile: join(target.tree, '.kpatch-build-objects.log'),
    jobs: ctx.jobs,
    make: target.toolchain.make,
    signal: ctx.signal,
    onCommand: ctx.onCommand,
  });
}

/** kbuild's records of the tree (or of the external module, built in the tree). */
export function indexKbuildRecords(run: BuildRun): Promise<KbuildIndex> {
  const { signal } = run.ctx;
  // kbuild ran in the kernel tree: the module's own files are recorded by absolute path.
  return run.oot
    ? buildKbuildIndex(run.oot.sourceDir, { signal, kbuildDir: run.target.tree })
    : buildKbuildIndex(run.target.tree, { signal });
}

/**
 * The objects compiled from the touched files, with their parents: those of a changed .c file, and of a
 * changed header those the header plan keeps. Refuses none, or more than an opt-in --max-objects.
 */
export async function findObjects(
  run: BuildRun,
  index: KbuildIndex,
  touched: readonly string[],
  headers: HeaderPlan | undefined,
): Promise<AffectedObjects> {
  const parents = await resolveParents(run.target, index, run.oot);
  const oot = run.oot;
  const files = oot ? touched.map((file) => join(oot.sourceDir, file)) : [...touched];
  const found = findAffectedObjects(index, parents, files);
  const affected = headers
    ? {
        ...found,
        objects: found.objects.filter(
          (o) => o.causes.some((c) => !isHeader(c)) || headers.kept.has(o.target),
        ),
      }
    : found;
  if (affected.objects.length === 0) {
    if (headers && headers.summary.includers > 0) {
      throw new NoChangeError(
        `the change to ${headers.summary.headers.join(', ')} changes no object's code: its ` +
          `${headers.summary.includers} includers use nothing it defines`,
        {
          hint: 'a comment, a new declaration nothing calls yet, or a macro nothing expands changes no code',
        },
      );
    }
    throw new NoChangeError(`no object of this kernel build is compiled from ${touched.join(', ')}`, {
      hint: 'the patched files are not built in this configuration',
    });
  }
  const limit = run.ctx.maxObjects;
  if (limit !== undefined && affected.objects.length > limit) {
    const wide = affected.wide.map((w) => `${w.file} (${w.count} objects)`).join(', ');
    throw new PatchError(`the patch reaches ${affected.objects.length} objects${wide ? `: ${wide}` : ''}`, {
      hint: `rebuilding them all is slow; pass --max-objects ${affected.objects.length} to go ahead`,
    });
  }
  return affected;
}

/** Learns the special-section entry sizes with the flags of an object the patch touches (it has a record). */
export function probeEntrySizes(run: BuildRun, affected: AffectedObjects): Promise<StructSizes> {
  const reference = affected.objects.find((o) => o.source.endsWith('.c')) ?? affected.objects[0]!;
  const sizes = probeStructSizes(run.target.tree, reference.target, run.target.toolchain.command);
  sizes.catch(() => {}); // awaited after the compiles; a failure must not be unhandled meanwhile
  return sizes;
}

function compileOptions(run: BuildRun, index: KbuildIndex, affected: AffectedObjects): BuildObjectsOptions {
  const { target, ctx } = run;
  return {
    tree: target.tree,
    index,
    objects: affected.objects,
    patches: run.patches,
    ...(run.oot ? { patchRoot: run.patchRoot } : {}),
    compile: target.toolchain.compile,
    workDir: run.workDir,
    skipCleanup: run.job.skipCleanup,
    allowFuzz: run.job.allowFuzz,
    // distcc's hosts take more compiles at once than this machine has cores.
    jobs: Math.max(ctx.jobs, target.toolchain.compileSlots ?? 0),
    signal: ctx.signal,
    onCommand: ctx.onCommand,
    onProgress: ctx.onProgress,
  };
}

/** Compiles the affected objects from the original tree (into the work dir). */
export function buildOriginal(run: BuildRun, index: KbuildIndex, affected: AffectedObjects) {
  run.compiling = true;
  run.emit({ kind: 'phase', message: 'Building original source' });
  return compileOriginalObjects(compileOptions(run, index, affected));
}

/** Compiles them again with the patches applied (the tree is restored afterwards). */
export function buildPatched(run: BuildRun, index: KbuildIndex, affected: AffectedObjects) {
  run.emit({ kind: 'phase', message: 'Building patched source' });
  return compilePatchedObjects(compileOptions(run, index, affected));
}
