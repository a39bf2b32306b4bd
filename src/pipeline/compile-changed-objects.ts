import { join } from 'node:path';
import { probeStructSizes } from '../diff/probe-struct-sizes.js';
import type { StructSizes } from '../diff/struct-sizes.js';
import { NoChangeError, PatchError } from '../errors.js';
import type { AffectedObjects } from '../kbuild/find-affected-objects.js';
import { findAffectedObjects } from '../kbuild/find-affected-objects.js';
import type { KbuildIndex } from '../kbuild/kbuild-index.js';
import { buildKbuildIndex } from '../kbuild/kbuild-index.js';
import type { ObjectParent, ParentResolver } from '../kbuild/object-parent.js';
import { createParentResolver } from '../kbuild/object-parent.js';
import { formatHunkNote, fuzzOption } from '../patch/hunk-notes.js';
import { recoverKilledRun } from '../patch/restore-journal.js';
import type { HunkNote } from '../patch/test-patches.js';
import { patchTestError, testPatches } from '../patch/test-patches.js';
import type { BuildEvent } from './build-from-tree.js';
import type { ObjectPair } from './build-objects.js';
import { buildObjectPairs } from './build-objects.js';

export interface CompileChangedOptions {
  tree: string;
  patches: readonly string[];
  workDir: string;
  maxObjects?: number;
  skipCleanup?: boolean;
  /** Apply hunks that need fuzz (--allow-fuzz); refused by default. */
  allowFuzz?: boolean;
  jobs?: number;
  signal?: AbortSignal;
  /** Prepared (never fully built) trees: how to record the touched objects, and where objects belong. */
  distro?: {
    buildTouchedObjects: (touched: string[]) => Promise<void>;
    parentOf: (target: string) => ObjectParent;
    /** The tree is fully built: kbuild's link records decide vmlinux / module / neither. */
    linkedParents?: boolean;
  };
  /** An external module the patches are for (their paths are relative to its source directory). */
  ootModule?: OotModule;
  emit: (event: BuildEvent) => void;
  /** Records the time since the previous lap under `name`. */
  lap: (name: string) => void;
  onCompileStart?: () => void;
  onCommand?: (command: string) => void;
}

export interface OotModule {
  /** The module as built (its symbols give the sympos of its functions). */
  ko: string;
  /** Its source directory, built with `make -C <tree> M=<dir>`. */
  sourceDir: string;
  /** The module's name as the kernel knows it. */
  name: string;
}

export interface CompiledChanges {
  /** Hunks that applied at an offset or (with --allow-fuzz) with fuzz. */
  hunkNotes: HunkNote[];
  affected: AffectedObjects;
  pairs: ObjectPair[];
  structSizes: StructSizes;
}

/**
 * The part of kpatch-build that uses the kernel tree itself: test the patches; find the objects they
 * affect from kbuild's records; compile those from the original tree, then with the patches applied
 * (restored afterwards); learn the special-section entry sizes from the same flags. The caller holds
 * the tree's lock.
 */
export async function compileChangedObjects(options: CompileChangedOptions): Promise<CompiledChanges> {
  const { tree, emit, lap, distro } = options;
  const signalOpt = options.signal ? { signal: options.signal } : {};
  const oot = options.ootModule;
  const patchRoot = oot?.sourceDir ?? tree;
  // Under the tree's lock: a record left by a killed run can be acted on safely.
  const recovered = recoverKilledRun(patchRoot);
  if (recovered.length > 0) {
    emit({
      kind: 'note',
      message: `restored ${recovered.join(', ')} in ${patchRoot}: an earlier run was killed while its patches were applied`,
    });
  }
  emit({ kind: 'phase', message: 'Testing patch file(s)' });
  const test = await testPatches(patchRoot, [...options.patches], fuzzOption(options.allowFuzz));
  if (test.failures.length > 0) throw patchTestError(test);
  for (const note of test.notes) emit({ kind: 'note', message: formatHunkNote(note) });
  lap('patch test');

  let index: KbuildIndex;
  let parents: ParentResolver;
  let touched = test.touched;
  if (oot) {
    // kbuild ran in the kernel tree: the module's own files are recorded by absolute path.
    index = await buildKbuildIndex(oot.sourceDir, { ...signalOpt, kbuildDir: tree });
    touched = touched.map((file) => join(oot.sourceDir, file));
    parents = { parentOf: () => ({ kind: 'module', name: oot.name, path: oot.ko, via: [] }), modules: [] };
  } else {
    await distro?.buildTouchedObjects(test.touched);
    index = await buildKbuildIndex(tree, signalOpt);
    if (distro && !distro.linkedParents) parents = { parentOf: distro.parentOf, modules: [] };
    else parents = await createParentResolver(index);
    if (distro?.linkedParents) {
      const linked = parents.parentOf;
      // In a module by kbuild's records: the target's own copy of that module is the parent.
      parents = {
        parentOf: (t) => {
          const parent = linked(t);
          return parent.kind === 'module' ? distro.parentOf(t) : parent;
        },
        modules: [],
      };
    }
  }
  const affected = findAffectedObjects(index, parents, touched);
  if (affected.objects.length === 0) {
    throw new NoChangeError(`no object of this kernel build is compiled from ${test.touched.join(', ')}`, {
      hint: 'the patched files are not built in this configuration',
    });
  }
  const limit = options.maxObjects ?? 300;
  if (affected.objects.length > limit) {
    const wide = affected.wide.map((w) => `${w.file} (${w.count} objects)`).join(', ');
    throw new PatchError(`the patch reaches ${affected.objects.length} objects${wide ? `: ${wide}` : ''}`, {
      hint: `rebuilding them all is slow; pass --max-objects ${affected.objects.length} to go ahead`,
    });
  }
  lap('affected objects');

  // Entry sizes, learnt with the flags of an object the patch touches (it has a record).
  const reference = affected.objects.find((o) => o.source.endsWith('.c')) ?? affected.objects[0]!;
  const structSizes = probeStructSizes(tree, reference.target);
  structSizes.catch(() => {}); // awaited below; a failure must not be unhandled meanwhile
  options.onCompileStart?.();
  const pairs = await buildObjectPairs({
    tree,
    index,
    objects: affected.objects,
    patches: options.patches,
    ...(oot ? { patchRoot } : {}),
    ...(options.onCommand ? { onCommand: options.onCommand } : {}),
    workDir: options.workDir,
    ...(options.skipCleanup ? { skipCleanup: true } : {}),
    ...fuzzOption(options.allowFuzz),
    ...(options.jobs ? { jobs: options.jobs } : {}),
    ...signalOpt,
    onPhase: (phase) => {
      if (phase === 'patched') lap('build original');
      emit({
        kind: 'phase',
        message: phase === 'original' ? 'Building original source' : 'Building patched source',
      });
    },
  });
  lap('build patched');
  return { hunkNotes: test.notes, affected, pairs, structSizes: await structSizes };
}
