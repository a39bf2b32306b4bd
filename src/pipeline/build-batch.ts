/**
 * A batch: the same patches built for several kernel releases, one kpatchBuild (and --verify) per release,
 * each into OUTPUT/<release>/NAME.ko. A release's failure is its verdict, not the batch's end; only an
 * interrupt stops the batch. Downloads, prepared sources and build roots are shared through the cache.
 */
import { join } from 'node:path';
import { InterruptedError, isKpatchError } from '../errors.js';
import type { VerifyResult } from '../verify/verify-livepatch.js';
import type { BuildContext } from './build-context.js';
import type { LivepatchJob } from './build-run.js';
import type { DistroTargetSpec } from './distro-target.js';
import { type KpatchBuildResult, kpatchBuild } from './kpatch-build.js';
import { verifyBuild } from './verify-build.js';

export type VerdictKind = 'built' | 'patch does not apply' | 'refused' | 'failed';

export interface ReleaseVerdict {
  release: string;
  verdict: VerdictKind;
  /** The built module (built), else the first line of the error. */
  detail: string;
  /** patch does not apply: the rejecting hunks, one line each ("x.patch: fs/f.c: hunk #1 @@ … @@: …"). */
  hunks?: string[];
  hint?: string;
  /** failed: where the log is, when one was kept. */
  logPath?: string;
  /** The build's result (built, or failed at --verify). */
  build?: KpatchBuildResult;
  verification?: Pick<VerifyResult, 'ok' | 'steps' | 'durationMs'>;
  ms: number;
}

/** Refusals are answers about the patch or the release (exit codes 2, 3, 64, 66), not breakage. */
const REFUSED_CODES = new Set(['unsupported-change', 'no-change', 'usage', 'distro']);

/** The verdict of a release whose build threw `error`. */
export function verdictOfError(release: string, error: unknown, ms: number): ReleaseVerdict {
  if (!isKpatchError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return { release, verdict: 'failed', detail: `internal error: ${message}`, ms };
  }
  const [first = '', ...rest] = error.message.split('\n');
  const common = { release, detail: first, ...(error.hint ? { hint: error.hint } : {}), ms };
  if (error.code === 'patch') {
    const hunks = rest.map((l) => l.trim()).filter((l) => l !== '');
    return { ...common, verdict: 'patch does not apply', ...(hunks.length > 0 ? { hunks } : {}) };
  }
  if (REFUSED_CODES.has(error.code)) return { ...common, verdict: 'refused' };
  return { ...common, verdict: 'failed', ...(error.logPath ? { logPath: error.logPath } : {}) };
}

export interface BatchRequest {
  /** The distro target every release shares (its own release is ignored). */
  target: DistroTargetSpec;
  /** The job every release shares; its outputDir is the batch's, each release gets a directory in it. */
  job: LivepatchJob;
  releases: readonly string[];
  /** --verify with these checks; undefined: no VM. */
  verify?: { checks: readonly string[]; cpu?: string };
}

export interface BatchHooks {
  /** The build context of one release (its own progress display). */
  contextFor(release: string, position: number): BuildContext;
  /** Told each verdict as soon as it is known (in the order releases end). */
  onVerdict?(verdict: ReleaseVerdict, error: unknown): void | Promise<void>;
  signal?: AbortSignal;
}

/** Where a release's module goes: one directory per release, so every module keeps the job's name. */
export function releaseOutputDir(outputDir: string, release: string): string {
  return join(outputDir, release);
}

async function buildRelease(request: BatchRequest, release: string, ctx: BuildContext) {
  const job = { ...request.job, outputDir: releaseOutputDir(request.job.outputDir, release) };
  const build = await kpatchBuild({ kind: 'distro', ...request.target, release }, job, ctx);
  if (!request.verify) return { build, verification: undefined };
  const { checks, cpu } = request.verify;
  const verified = await verifyBuild(build, { checks, ...(cpu ? { cpu } : {}), signal: ctx.signal });
  return { build, verification: { ok: verified.ok, steps: verified.steps, durationMs: verified.durationMs } };
}

/** "--verify: <the first step that did not hold>". */
function verifyFailure(verified: ReleaseVerdict['verification']): string {
  const failed = verified?.steps.find((s) => !s.ok);
  return `--verify: ${failed ? `${failed.name}: ${failed.detail}` : 'the guest did not finish its script'}`;
}

/** One release start to end: built (and verified), or the verdict of what stopped it. */
async function judgeRelease(
  request: BatchRequest,
  release: string,
  position: number,
  hooks: BatchHooks,
): Promise<ReleaseVerdict> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let verdict: ReleaseVerdict;
  let thrown: unknown;
  try {
    const { build, verification } = await buildRelease(request, release, hooks.contextFor(release, position));
    verdict =
      verification && !verification.ok
        ? {
            release,
            verdict: 'failed',
            detail: verifyFailure(verification),
            build,
            verification,
            ms: elapsed(),
          }
        : {
            release,
            verdict: 'built',
            detail: build.module,
            build,
            ...(verification ? { verification } : {}),
            ms: elapsed(),
          };
  } catch (error) {
    if (error instanceof InterruptedError || hooks.signal?.aborted) throw error;
    thrown = error;
    verdict = verdictOfError(release, error, elapsed());
  }
  await hooks.onVerdict?.(verdict, thrown);
  return verdict;
}

/**
 * Builds every release, one after the other; the verdicts in the order of `releases`. One at a time: the
 * cache's locks are per process and not reentrant, and each build already runs ctx.jobs compilers; to
 * build releases at once, run shards as separate processes (--shard), which the locks do serialize.
 */
export async function buildBatch(request: BatchRequest, hooks: BatchHooks): Promise<ReleaseVerdict[]> {
  const verdicts: ReleaseVerdict[] = [];
  for (const [position, release] of request.releases.entries()) {
    verdicts.push(await judgeRelease(request, release, position, hooks));
  }
  return verdicts;
}

export const allBuilt = (verdicts: readonly ReleaseVerdict[]) => verdicts.every((v) => v.verdict === 'built');
