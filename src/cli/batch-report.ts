/**
 * What a batch tells the user at its end: the verdict table (one row per release: built, patch does not
 * apply with the rejecting hunk, refused with the reason, failed with the log) and the --json report,
 * whose entries carry the same per-build report a single build prints.
 */
import type { Shard } from '../pipeline/batch-releases.js';
import type { ReleaseVerdict } from '../pipeline/build-batch.js';
import type { KpatchBuildResult } from '../pipeline/kpatch-build.js';
import type { VerifyResult } from '../verify/verify-livepatch.js';

type Verification = Pick<VerifyResult, 'ok' | 'steps' | 'durationMs'>;

/** kpatch-build --json for one build: its result, and --verify's outcome when it ran. */
export function buildReport(result: KpatchBuildResult, verification?: Verification) {
  return { ...result, ...(verification ? { verification } : {}) };
}

/** The detail cell's lines: what was built, or why not (the hunks that reject, the log to read). */
export function verdictDetail(v: ReleaseVerdict): string[] {
  if (v.verdict === 'patch does not apply' && v.hunks && v.hunks.length > 0) return v.hunks;
  if (v.verdict === 'failed' && v.logPath) return [v.detail, `log: ${v.logPath}`];
  return [v.detail];
}

const HEADER = ['RELEASE', 'VERDICT', 'DETAIL'] as const;

/** The table as text: aligned columns, continuation lines under DETAIL, a count at the end. */
export function renderVerdictTable(verdicts: readonly ReleaseVerdict[], shard?: Shard): string {
  const releaseWidth = Math.max(HEADER[0].length, ...verdicts.map((v) => v.release.length));
  const verdictWidth = Math.max(HEADER[1].length, ...verdicts.map((v) => v.verdict.length));
  const row = (release: string, verdict: string, detail: string) =>
    `${release.padEnd(releaseWidth)}  ${verdict.padEnd(verdictWidth)}  ${detail}`.trimEnd();
  const lines = [row(...HEADER)];
  for (const v of verdicts) {
    const [first = '', ...more] = verdictDetail(v);
    lines.push(row(v.release, v.verdict, first));
    for (const line of more) lines.push(row('', '', `  ${line}`));
  }
  const built = verdicts.filter((v) => v.verdict === 'built').length;
  const of = shard ? ` (shard ${shard.index}/${shard.count})` : '';
  lines.push(`${built} of ${verdicts.length} release${verdicts.length === 1 ? '' : 's'} built${of}`);
  return `${lines.join('\n')}\n`;
}

export interface BatchReportInput {
  verdicts: readonly ReleaseVerdict[];
  /** Every release of the batch before sharding (sorted). */
  batch: readonly string[];
  shard?: Shard | undefined;
  suite?: string | undefined;
}

/** --json for a batch: one entry per release of this shard, each with the per-build report when built. */
export function batchReport({ verdicts, batch, shard, suite }: BatchReportInput) {
  return {
    ...(suite ? { suite } : {}),
    ...(shard ? { shard } : {}),
    batch: [...batch],
    built: verdicts.filter((v) => v.verdict === 'built').length,
    total: verdicts.length,
    releases: verdicts.map((v) => ({
      release: v.release,
      verdict: v.verdict,
      detail: v.detail,
      ...(v.hunks ? { hunks: v.hunks } : {}),
      ...(v.hint ? { hint: v.hint } : {}),
      ...(v.logPath ? { logPath: v.logPath } : {}),
      ms: v.ms,
      ...(v.build ? { report: buildReport(v.build, v.verification) } : {}),
    })),
  };
}
