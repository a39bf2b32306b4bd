import { probeStructSizes } from '../diff/probe-struct-sizes.js';
import type { StructSizes } from '../diff/struct-sizes.js';
import { NoChangeError, PatchError } from '../errors.js';
import type { AffectedObjects } from '../kbuild/find-affected-objects.js';
import { findAffectedObjects } from '../kbuild/find-affected-objects.js';
import { buildKbuildIndex } from '../kbuild/kbuild-index.js';
import type { ObjectParent } from '../kbuild/object-parent.js';
import { createParentResolver } from '../kbuild/object-parent.js';
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
  jobs?: number;
  signal?: AbortSignal;
  /** Prepared (never fully built) trees: how to record the touched objects, and where objects belong. */
  distro?: {
    buildTouchedObjects: (touched: string[]) => Promise<void>;
    parentOf: (target: string) => ObjectParent;
  };
  emit: (event: BuildEvent) => void;
  /** Records the time since the previous lap under `name`. */
  lap: (name: string) => void;
  onCompileStart?: () => void;
}

export interface CompiledChanges {
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
  emit({ kind: 'phase', message: 'Testing patch file(s)' });
  const test = await testPatches(tree, [...options.patches]);
  if (test.failures.length > 0) throw patchTestError(test);
  lap('patch test');

  await distro?.buildTouchedObjects(test.touched);
  const index = await buildKbuildIndex(tree, signalOpt);
  const parents = distro ? { parentOf: distro.parentOf, modules: [] } : await createParentResolver(index);
  const affected = findAffectedObjects(index, parents, test.touched);
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
    workDir: options.workDir,
    ...(options.skipCleanup ? { skipCleanup: true } : {}),
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
  return { affected, pairs, structSizes: await structSizes };
}
