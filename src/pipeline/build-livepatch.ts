/**
 * From a resolved target and patches to a livepatch module, as a flat list of named steps (the shape of
 * kpatch-build's main() and objtool's cmd_klp_diff): each line one step over the target value, timed by
 * runStep. Distro differences are in the target (src/pipeline/build-target.ts), not here.
 */
import { join } from 'node:path';
import { moduleDependencies } from '../distro/target-modules.js';
import type { ObjectChanges } from '../module/plan-module.js';
import type { HunkNote } from '../patch/test-patches.js';
import { withLock } from '../source/lock.js';
import type { BuildContext } from './build-context.js';
import { runStep } from './build-events.js';
import { pairObjects } from './build-objects.js';
import type { LivepatchJob } from './build-run.js';
import { openRun } from './build-run.js';
import type { BuildTarget } from './build-target.js';
import { checkPatchFiles, checkTargetCompiler, describeOotModule } from './steps/check-inputs.js';
import {
  buildOriginal,
  buildPatched,
  findObjects,
  indexKbuildRecords,
  probeEntrySizes,
  recordTouchedObjects,
  restoreKilledRun,
  testPatchFiles,
} from './steps/compile-steps.js';
import type { HeaderSummary } from './steps/header-steps.js';
import { planPreparedHeaders, planRecordedHeaders } from './steps/header-steps.js';
import {
  buildModule,
  diffPairs,
  planLivepatch,
  reportChanges,
  targetModulesOf,
} from './steps/module-steps.js';

export interface LivepatchBuild {
  module: string;
  name: string;
  changes: ObjectChanges[];
  parents: string[];
  /** The loadable modules the livepatch patches (their .ko files), for late-patching checks. */
  targetModules: string[];
  /** The modules those need loaded first (their `depends=`), in load order: loaded before the livepatch. */
  targetModuleDependencies: string[];
  /** The target's bootable image, when known (the tree's bzImage, or the distro's), for --verify. */
  image: string | undefined;
  workDir: string | undefined;
  /** Hunks that applied at an offset or, with --allow-fuzz, with fuzz. */
  hunks: HunkNote[];
  /** For a header change: objects indexed, including it, pruned and compiled. */
  headers?: HeaderSummary;
}

export async function buildLivepatch(
  target: BuildTarget,
  job: LivepatchJob,
  ctx: BuildContext,
): Promise<LivepatchBuild> {
  const { patches, oot } = await runStep(ctx.emit, 'checks', async () => {
    const patches = await checkPatchFiles(job);
    await checkTargetCompiler(target, job);
    return { patches, oot: await describeOotModule(job) };
  });
  const { run, failed, close } = await openRun(target, job, ctx, { patches, oot });
  const step = <T>(name: string, fn: () => Promise<T> | T) => runStep(run.emit, name, fn);
  let succeeded = false;
  try {
    // The patches are applied to the tree itself while the patched objects compile: one run at a time.
    const compiled = await withLock(
      join(run.patchRoot, '.kpatch-build.lock'),
      async () => {
        restoreKilledRun(run);
        const { touched, hunks } = await step('patch test', () => testPatchFiles(run));
        const { index, affected, headers } = await step('affected objects', async () => {
          const prepared = await planPreparedHeaders(run, touched);
          await recordTouchedObjects(run, touched, prepared);
          const index = await indexKbuildRecords(run);
          const headers = prepared ?? (await planRecordedHeaders(run, index, touched));
          return { index, headers, affected: await findObjects(run, index, touched, headers) };
        });
        const structSizes = probeEntrySizes(run, affected);
        const orig = await step('build original', () => buildOriginal(run, index, affected));
        const patched = await step('build patched', () => buildPatched(run, index, affected));
        return {
          hunks,
          headers: headers?.summary,
          affected,
          pairs: pairObjects(affected.objects, orig, patched),
          structSizes: await structSizes,
        };
      },
      {
        signal: ctx.signal,
        onWait: (holder) =>
          run.emit({
            kind: 'note',
            message: `waiting for another kpatch-build (pid ${holder.pid}) using ${target.tree}`,
          }),
      },
    );
    const { plan, parents } = await step('diff', async () => {
      const changed = await diffPairs(run, compiled.pairs, compiled.structSizes);
      const plan = await planLivepatch(run, changed);
      return { plan, parents: reportChanges(run, plan) };
    });
    const targetModules = targetModulesOf(run, compiled.affected);
    const targetModuleDependencies = target.modulesDir
      ? await moduleDependencies(targetModules, target.modulesDir)
      : [];
    const module = await step('module', () => buildModule(run, plan, targetModules));
    succeeded = true;
    return {
      module,
      name: job.name,
      changes: plan.changes,
      parents,
      targetModules,
      targetModuleDependencies,
      image: target.image,
      workDir: job.keepWorkDir ? run.workDir : undefined,
      hunks: compiled.hunks,
      ...(compiled.headers ? { headers: compiled.headers } : {}),
    };
  } catch (error) {
    failed(error);
    throw error;
  } finally {
    await close(succeeded);
  }
}
