/**
 * GNU patch applies a hunk "with fuzz" by ignoring some of its context lines: the hunk then lands where
 * the code differs from what the patch author saw, which in a livepatch can mean changing the wrong
 * code. This finds the context lines that did not match, to show them.
 */
import type { HunkInfo } from './describe-patch.js';

/** The old start line from a "@@ -17,7 +17,7 @@" header. */
function oldStart(header: string): number {
  return Number(/^@@ -(\d+)/.exec(header)?.[1] ?? 1);
}

function mismatches(lines: readonly string[], expected: readonly string[], start: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < expected.length; j++) if (lines[start + j] !== expected[j]) out.push(j);
  return out;
}

/**
 * The hunk's old lines against the file, aligned where they match best near the header's line plus the
 * offset patch reported: one "line N: expected …, found …" per line that differs.
 */
export function describeFuzz(
  before: string | undefined,
  hunk: HunkInfo,
  offset: number,
  fuzz: number,
): string[] {
  const lines = before?.split('\n') ?? [];
  const expectedAt = oldStart(hunk.header) - 1 + offset;
  let best: { start: number; bad: number[] } | undefined;
  for (let delta = -(fuzz + 2); delta <= fuzz + 2; delta++) {
    const start = expectedAt + delta;
    if (start < 0) continue;
    const bad = mismatches(lines, hunk.oldLines, start);
    if (!best || bad.length < best.bad.length) best = { start, bad };
  }
  if (!best) return [];
  const { start } = best;
  return best.bad.map(
    (j) =>
      `line ${start + j + 1}: the patch expects "${hunk.oldLines[j]}", the file has "${lines[start + j] ?? '(end of file)'}"`,
  );
}
