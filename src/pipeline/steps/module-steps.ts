/** The steps after the compiles: diff each pair, plan the module, report what changed, build and check it. */
import { join, resolve } from 'node:path';
import type { StructSizes } from '../../diff/struct-sizes.js';
import { appendUtsDefines } from '../../distro/release-rules.js';
import type { AffectedObjects } from '../../kbuild/find-affected-objects.js';
import type { ModulePlan } from '../../module/plan-module.js';
import { planModule } from '../../module/plan-module.js';
import { abortError } from '../../source/abort.js';
import { buildLivepatchModule } from '../build-module.js';
import type { ObjectPair } from '../build-objects.js';
import type { BuildRun } from '../build-run.js';
import type { ChangedObject } from '../diff-object-pairs.js';
import { diffObjectPairs } from '../diff-object-pairs.js';

/** create-diff-object on each pair: the changed and new functions and what they need. */
export async function diffPairs(
  run: BuildRun,
  pairs: ObjectPair[],
  structSizes: StructSizes,
): Promise<ChangedObject[]> {
  run.emit({ kind: 'phase', message: 'Extracting new and modified ELF sections' });
  const changed = await diffObjectPairs({
    pairs,
    tree: run.target.tree,
    vmlinuxSymbols: run.target.symbols,
    moduleSymvers: run.target.moduleSymvers,
    structSizes,
    threads: run.ctx.jobs,
  });
  // The workers finish their objects (a second or two); a stop asked for meanwhile ends the run here.
  if (run.ctx.signal.aborted) throw abortError(run.ctx.signal);
  return changed;
}

/** The livepatch module's spec: its functions, relocations and callbacks per object. */
export function planLivepatch(run: BuildRun, changed: ChangedObject[]): Promise<ModulePlan> {
  return planModule(changed, {
    name: run.job.name,
    replace: run.job.replace,
    workDir: join(run.workDir, 'linked'),
  });
}

/** Tells the user each changed and new function, what was ignored and what had to be patched instead. */
export function reportChanges(run: BuildRun, plan: ModulePlan): string[] {
  const emit = run.emit;
  for (const change of plan.changes) {
    for (const fn of change.changed)
      emit({ kind: 'function', object: change.object, function: fn, change: 'changed' });
    for (const fn of change.added)
      emit({ kind: 'function', object: change.object, function: fn, change: 'new' });
    for (const what of change.ignored) {
      emit({ kind: 'note', message: `${change.object}: changes to ${what} ignored (KPATCH_IGNORE_*)` });
    }
    for (const u of change.untraced) {
      emit({
        kind: 'note',
        message: `${change.object}: ${u.function}() cannot be traced (notrace): patching its callers ${u.callers.join(', ')} with the new copy`,
      });
    }
  }
  const parentNames = [...new Set(plan.changes.map((c) => c.parent))];
  emit({ kind: 'phase', message: `Patched objects: ${parentNames.join(' ')}` });
  return parentNames;
}

/** The loadable modules the livepatch patches (their .ko files), for late-patching checks. */
export function targetModulesOf(run: BuildRun, affected: AffectedObjects): string[] {
  const tree = run.target.tree;
  return [
    ...new Set(
      affected.objects.flatMap((o) => (o.parent.kind === 'module' ? [resolve(tree, o.parent.path)] : [])),
    ),
  ];
}

/** Builds the module with kbuild against the target, converts its relocations and checks it. */
export async function buildModule(run: BuildRun, plan: ModulePlan, targetModules: string[]): Promise<string> {
  const { target, ctx } = run;
  run.emit({ kind: 'phase', message: `Building patch module: ${run.job.name}.ko` });
  // kbuild regenerated utsrelease.h for the single objects: the module sees it as the headers have it.
  if (target.utsDefines.length > 0) await appendUtsDefines(target.tree, [...target.utsDefines]);
  return buildLivepatchModule({
    spec: plan.spec,
    buildDir: target.moduleBuildDir,
    moduleSymvers: target.moduleSymvers,
    ...(target.symbols.format === 'elf'
      ? { vmlinux: target.symbols.path }
      : { systemMap: target.symbols.path }),
    targetModules,
    workDir: run.workDir,
    outputDir: run.job.outputDir,
    ...(target.vermagic ? { expectedVermagic: target.vermagic } : {}),
    make: target.toolchain.make,
    ...(run.job.sign ? { sign: run.job.sign } : {}),
    ...(target.sealedFunctions ? { sealedFunctions: target.sealedFunctions } : {}),
    signal: ctx.signal,
    onCommand: ctx.onCommand,
  });
}
