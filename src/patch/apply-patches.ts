/**
 * Applies a patch series to the source tree in place (kpatch-build -s style) and guarantees it is put
 * back: on success when the caller restores (or withAppliedPatches returns), on errors, on process exit
 * and on SIGINT/SIGTERM. The series is first tested on a scratch copy, so a patch that does not apply
 * never leaves the tree half patched.
 *
 * Signals: while patches are applied, SIGINT/SIGTERM restore the tree at once (synchronously). If the
 * caller passed an AbortSignal it owns interruption (the CLI aborts its stages, which end through their
 * finally blocks) and the process is left running; otherwise the signal is raised again with our handler
 * removed, so the process ends the way it would have without us.
 */
import { resolve } from 'node:path';
import { PatchError } from '../errors.js';
import { abortError } from '../source/abort.js';
import { runGnuPatch } from './gnu-patch.js';
import type { PatchTestReport } from './test-patches.js';
import { patchTestError, testPatches } from './test-patches.js';
import type { FileChanges, TreeSnapshot } from './tree-snapshot.js';
import { takeSnapshot } from './tree-snapshot.js';

export interface ApplyPatchesOptions {
  signal?: AbortSignal;
  /** Leave the tree patched on errors and signals (kpatch-build --skip-cleanup); restore() still works. */
  skipCleanup?: boolean;
  fuzz?: number;
  /** Accept hunks that apply only with fuzz (kpatch-build --allow-fuzz). */
  allowFuzz?: boolean;
}

export interface AppliedPatches extends FileChanges {
  tree: string;
  report: PatchTestReport;
  readonly restored: boolean;
  /** Puts the tree back exactly (content, modes, mtimes; created files removed). Idempotent. */
  restore(): Promise<void>;
}

interface Active {
  snapshot: TreeSnapshot;
  callerHandlesSignals: boolean;
  child: number | undefined;
}

const active = new Set<Active>();

function restoreAll(): boolean {
  let callerHandles = false;
  for (const entry of active) {
    if (entry.child !== undefined) {
      try {
        process.kill(entry.child, 'SIGKILL'); // a patch still writing must not undo our restore
      } catch {
        // already gone
      }
    }
    try {
      entry.snapshot.restoreSync();
    } catch (error) {
      process.stderr.write(`kpatch-build: restoring ${entry.snapshot.tree} failed: ${String(error)}\n`);
    }
    callerHandles ||= entry.callerHandlesSignals;
  }
  active.clear();
  return callerHandles;
}

function onSignal(signal: NodeJS.Signals): void {
  const callerHandles = restoreAll();
  removeHandlers();
  // Re-raise unless the caller owns interruption and has its own listener to act on it.
  if (!callerHandles || process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
const onSigint = () => onSignal('SIGINT');
const onSigterm = () => onSignal('SIGTERM');
const onExit = () => {
  restoreAll();
};

function addHandlers(): void {
  if (process.listeners('exit').includes(onExit)) return;
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  process.on('exit', onExit);
}

function removeHandlers(): void {
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
  process.off('exit', onExit);
}

function release(entry: Active): void {
  active.delete(entry);
  if (active.size === 0) removeHandlers();
}

/** Tests, then applies `patchFiles` (in order, -p1) to `tree`; see AppliedPatches.restore(). */
export async function applyPatches(
  tree: string,
  patchFiles: readonly string[],
  options: ApplyPatchesOptions = {},
): Promise<AppliedPatches> {
  const { signal } = options;
  const root = resolve(tree);
  if (signal?.aborted) throw abortError(signal);
  const fuzzOption = options.fuzz === undefined ? {} : { fuzz: options.fuzz };
  const report = await testPatches(root, patchFiles, {
    ...fuzzOption,
    ...(options.allowFuzz ? { allowFuzz: true } : {}),
    ...(signal ? { signal } : {}),
  });
  if (!report.ok) throw patchTestError(report);
  if (signal?.aborted) throw abortError(signal);

  const snapshot = takeSnapshot(root, report.touched);
  const entry: Active = { snapshot, callerHandlesSignals: signal !== undefined, child: undefined };
  if (!options.skipCleanup) {
    active.add(entry);
    addHandlers();
  }
  const restore = async () => {
    snapshot.restoreSync();
    release(entry);
  };
  try {
    for (const patch of report.patches) {
      const result = await runGnuPatch({
        cwd: root,
        patchFile: resolve(patch.patchFile),
        ...fuzzOption,
        ...(signal ? { signal } : {}),
        onSpawn: (pid) => {
          entry.child = pid;
        },
      });
      if (result.exitCode !== 0) {
        // It applied to the scratch copy a moment ago: the tree changed under us.
        const said = result.output.trim().split('\n').slice(0, 4).join(' / ');
        throw new PatchError(`${patch.patchFile} failed to apply to ${root} after testing cleanly: ${said}`, {
          hint: 'is something else editing the tree? It was restored; run again',
        });
      }
    }
  } catch (error) {
    if (!options.skipCleanup) await restore();
    if (signal?.aborted) throw abortError(signal);
    throw error;
  }
  const changes = snapshot.changes();
  return {
    tree: root,
    report,
    ...changes,
    get restored() {
      return snapshot.restored;
    },
    restore,
  };
}

/** Runs `fn` with the patches applied; the tree is restored however `fn` ends (unless skipCleanup). */
export async function withAppliedPatches<T>(
  tree: string,
  patchFiles: readonly string[],
  fn: (applied: AppliedPatches) => Promise<T>,
  options: ApplyPatchesOptions = {},
): Promise<T> {
  const applied = await applyPatches(tree, patchFiles, options);
  try {
    return await fn(applied);
  } finally {
    // --skip-cleanup leaves the patched tree (and its .kpatch-orig backups) for inspection.
    if (!options.skipCleanup) await applied.restore();
  }
}
