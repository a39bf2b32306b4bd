/**
 * kpatch-build with several releases (-a REL -a REL, -a all, --shard I/N): resolve the batch's releases,
 * build each through the ordinary pipeline (src/pipeline/build-batch.ts), show each release's progress
 * under a header line, then the verdict table (stdout; stderr with --json, whose report goes to stdout).
 * Exit 0 only when every release of this shard built.
 */
import { BatchIncompleteError, isKpatchError } from '../errors.js';
import { resolveBatchReleases } from '../pipeline/batch-releases.js';
import { allBuilt, buildBatch, type ReleaseVerdict } from '../pipeline/build-batch.js';
import { buildContext } from '../pipeline/build-context.js';
import { batchReport, renderVerdictTable } from './batch-report.js';
import { type BuildProgress, createBuildProgress } from './build-progress.js';
import type { KpatchBatchCommand } from './kpatch-build-options.js';
import { printVerifyResult } from './print-verify-result.js';

/** "kpatch-build: 6.1.0-47-amd64: ERROR: …" with its hint, as runCli words a single build's error. */
function printReleaseError(release: string, error: unknown): void {
  if (!isKpatchError(error)) return;
  const at = `kpatch-build: ${release}:`;
  process.stderr.write(`${at} ERROR: ${error.message}\n`);
  if (error.hint) process.stderr.write(`${at} hint: ${error.hint}\n`);
  if (error.logPath) process.stderr.write(`${at} log: ${error.logPath}\n`);
}

function incomplete(verdicts: readonly ReleaseVerdict[]): BatchIncompleteError {
  const missed = verdicts.filter((v) => v.verdict !== 'built');
  return new BatchIncompleteError(
    `${missed.length} of ${verdicts.length} releases not built: ${missed.map((v) => `${v.release} (${v.verdict})`).join(', ')}`,
    { hint: 'the verdict table above says why for each release; the built modules are in their directories' },
  );
}

export async function runBatchCommand(command: KpatchBatchCommand, signal: AbortSignal): Promise<number> {
  const { build } = command;
  const target = build.target.kind === 'distro' ? build.target : undefined;
  if (!target) throw new Error('a batch is checked to have a distro target');
  const resolved = await resolveBatchReleases({
    releases: command.releases,
    distro: target.distro,
    shard: command.shard,
  });
  const releases = resolved.mine;
  const shardNote = command.shard
    ? ` (shard ${command.shard.index}/${command.shard.count} of ${resolved.all.length})`
    : '';
  process.stderr.write(
    `kpatch-build: ${releases.length} release${releases.length === 1 ? '' : 's'} to build${shardNote}: ${releases.join(', ') || 'none'}\n`,
  );
  const progresses = new Map<string, BuildProgress>();
  const verdicts = await buildBatch(
    {
      target,
      job: build.job,
      releases,
      ...(build.verify ? { verify: { checks: build.checks, ...(build.cpu ? { cpu: build.cpu } : {}) } } : {}),
    },
    {
      signal,
      contextFor(release, position) {
        process.stderr.write(`== ${release} (${position + 1} of ${releases.length}) ==\n`);
        const progress = createBuildProgress({ stream: process.stderr, verbose: build.debug });
        progresses.set(release, progress);
        return buildContext({
          ...(build.jobs ? { jobs: build.jobs } : {}),
          ...(build.maxObjects ? { maxObjects: build.maxObjects } : {}),
          signal,
          emit: (event) => progress.event(event),
          onProgress: (message) => progress.progress(message),
          onDownload: (p) => progress.download(p),
          onCommand: (line) => progress.command(line),
        });
      },
      async onVerdict(verdict, error) {
        const progress = progresses.get(verdict.release);
        if (verdict.build) await progress?.succeed(verdict.build.module);
        else await progress?.fail(error);
        await progress?.close();
        if (verdict.verification)
          printVerifyResult(verdict.verification, process.stderr, `verify ${verdict.release}`);
        printReleaseError(verdict.release, error);
      },
    },
  ).finally(async () => {
    for (const progress of progresses.values()) await progress.close();
  });
  const table = renderVerdictTable(verdicts, command.shard);
  if (build.json) {
    process.stderr.write(table);
    const report = batchReport({
      verdicts,
      batch: resolved.all,
      shard: command.shard,
      suite: resolved.suite,
    });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(table);
  }
  if (!allBuilt(verdicts)) throw incomplete(verdicts);
  return 0;
}
