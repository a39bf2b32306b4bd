/**
 * kpatch-build as one call: resolve the target (a built tree with -s, else a distro release), then the
 * flat step list of buildLivepatch over it. The timings are the step events of both, observed once.
 */
import { distccToolchain } from '../kbuild/distcc.js';
import type { BuildContext } from './build-context.js';
import { observeTimings } from './build-events.js';
import type { LivepatchBuild } from './build-livepatch.js';
import { buildLivepatch } from './build-livepatch.js';
import type { LivepatchJob } from './build-run.js';
import type { BuildTarget } from './build-target.js';
import type { DistroTargetSpec } from './distro-target.js';
import { resolveDistroTarget } from './distro-target.js';
import type { TreeTargetSpec } from './tree-target.js';
import { resolveTreeTarget } from './tree-target.js';

export type TargetSpec = ({ kind: 'tree' } & TreeTargetSpec) | ({ kind: 'distro' } & DistroTargetSpec);

export interface KpatchBuildResult extends LivepatchBuild {
  /** Milliseconds per step, in the order the steps ended. */
  timings: Record<string, number>;
}

/** The target value for a spec (the first step of every build); with ctx.distcc its compiles use distcc. */
export async function resolveTarget(spec: TargetSpec, ctx: BuildContext): Promise<BuildTarget> {
  const target = await (spec.kind === 'tree' ? resolveTreeTarget(spec, ctx) : resolveDistroTarget(spec, ctx));
  if (!ctx.distcc) return target;
  const toolchain = await distccToolchain(target.toolchain);
  ctx.emit({
    kind: 'note',
    message: `compiling the affected objects over distcc (${toolchain.compileSlots} job slots)`,
  });
  return { ...target, toolchain };
}

export async function kpatchBuild(
  spec: TargetSpec,
  job: LivepatchJob,
  context: BuildContext,
): Promise<KpatchBuildResult> {
  const timings = observeTimings();
  const ctx: BuildContext = {
    ...context,
    emit: (event) => {
      timings.observe(event);
      context.emit(event);
    },
  };
  const target = await resolveTarget(spec, ctx);
  const built = await buildLivepatch(target, job, ctx);
  return { ...built, timings: timings.timings };
}
