import { join } from 'node:path';
import { BuildError } from '../errors.js';
import type { CompiledObject } from '../kbuild/compile-object.js';
import type { AffectedObject } from '../kbuild/find-affected-objects.js';
import type { KbuildIndex } from '../kbuild/kbuild-index.js';
import type { Toolchain } from '../kbuild/toolchain.js';
import { INCLUDE_DIR } from '../module/write-module-dir.js';
import { withAppliedPatches } from '../patch/apply-patches.js';

export interface ObjectPair {
  object: AffectedObject;
  orig: CompiledObject;
  patched: CompiledObject;
}

export interface BuildObjectsOptions {
  /** Where the recorded commands run (the kernel tree). */
  tree: string;
  /** Where the patches apply, when not the tree (an external module's source). */
  patchRoot?: string;
  index: KbuildIndex;
  objects: readonly AffectedObject[];
  patches: readonly string[];
  workDir: string;
  /** The target's compiler (Toolchain.compile). */
  compile: Toolchain['compile'];
  skipCleanup?: boolean;
  /** Apply hunks that need fuzz (--allow-fuzz); refused by default. */
  allowFuzz?: boolean;
  /** Compilers run at once (-j). */
  jobs: number;
  signal?: AbortSignal;
  onCommand?: (command: string) => void;
  /** "12/40 objects compiled, about 1 min left", for batches worth a progress line (a header change). */
  onProgress?: (message: string) => void;
}

export type CompiledObjects = Map<string, CompiledObject>;

/** Progress of a batch of compiles with the time left, about ten lines per batch (none for small ones). */
export function compileProgress(total: number, report: ((message: string) => void) | undefined) {
  const started = performance.now();
  const every = Math.max(1, Math.ceil(total / 10));
  let done = 0;
  return () => {
    done++;
    if (!report || total < 8 || (done % every !== 0 && done !== total)) return;
    const left = ((performance.now() - started) / done) * (total - done);
    const eta =
      done === total
        ? ''
        : `, about ${left < 60_000 ? `${Math.ceil(left / 1000)} s` : `${Math.ceil(left / 60_000)} min`} left`;
    report(`${done}/${total} objects compiled${eta}`);
  };
}

async function compileAll(options: BuildObjectsOptions, workDir: string): Promise<CompiledObjects> {
  const compiled = new Map<string, CompiledObject>();
  const queue = [...options.objects];
  const workers = Math.max(1, Math.min(options.jobs, queue.length));
  const progress = compileProgress(queue.length, options.onProgress);
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const recorded = options.index.objects.get(next.target);
      if (!recorded) throw new BuildError(`no kbuild record (.cmd file) for ${next.target}`);
      compiled.set(
        next.target,
        await options.compile({
          tree: options.tree,
          object: recorded,
          workDir,
          // kpatch-macros.h and friends, for patches written for kpatch-build.
          extraFlags: [`-I${INCLUDE_DIR}`],
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.onCommand ? { onCommand: options.onCommand } : {}),
        }),
      );
      progress();
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return compiled;
}

/**
 * Compiles just the affected objects with function and data sections, from the original tree. Outputs go
 * to the work dir; the tree's own objects are never touched.
 */
export function compileOriginalObjects(options: BuildObjectsOptions): Promise<CompiledObjects> {
  return compileAll(options, join(options.workDir, 'orig'));
}

/** The same with the patches applied, restored afterwards on every exit path unless skipCleanup. */
export function compilePatchedObjects(options: BuildObjectsOptions): Promise<CompiledObjects> {
  return withAppliedPatches(
    options.patchRoot ?? options.tree,
    options.patches,
    () => compileAll(options, join(options.workDir, 'patched')),
    {
      ...(options.skipCleanup ? { skipCleanup: true } : {}),
      ...(options.allowFuzz ? { allowFuzz: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
}

/** Each affected object with its original and patched compile. */
export function pairObjects(
  objects: readonly AffectedObject[],
  orig: CompiledObjects,
  patched: CompiledObjects,
): ObjectPair[] {
  return objects.map((object) => ({
    object,
    orig: orig.get(object.target)!,
    patched: patched.get(object.target)!,
  }));
}
