/**
 * The batch forms of kpatch-build's command line, read without files or environment: which -a values make
 * a batch (more than one, "all", "all-<flavour>") and what --shard I/N means.
 */
import { UsageError } from '../errors.js';
import { allReleasesFlavour, type Shard } from '../pipeline/batch-releases.js';

const SHARD_HINT =
  'write --shard I/N with whole numbers 1 <= I <= N, e.g. --shard 2/3 (the second of three machines); on a Kubernetes Indexed Job: --shard $((JOB_COMPLETION_INDEX + 1))/$COMPLETIONS';

/** Parses "I/N" (1 <= I <= N); anything else is a UsageError saying how to write it. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new UsageError(`--shard "${text}" is not of the form I/N`, { hint: SHARD_HINT });
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1) throw new UsageError(`--shard ${text}: N must be at least 1`, { hint: SHARD_HINT });
  if (index < 1 || index > count) {
    throw new UsageError(`--shard ${text}: I must be between 1 and ${count} (shards are numbered from 1)`, {
      hint: SHARD_HINT,
    });
  }
  return { index, count };
}

export const isAllReleases = (release: string) => allReleasesFlavour(release) !== null;

/** A batch is asked for by more than one -a, by -a all[-FLAVOUR], or by --shard. */
export function isBatchSelection(releases: readonly string[], shard: string | undefined): boolean {
  return releases.length > 1 || releases.some(isAllReleases) || shard !== undefined;
}
