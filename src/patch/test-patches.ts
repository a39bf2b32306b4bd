/**
 * Checks that every patch applies, in order, before the tree is touched. A plain `patch --dry-run` per
 * patch cannot test a series (patch 2 may need patch 1's changes), so the files the patches name are
 * copied into a scratch directory and the series is really applied there with GNU patch. Each failure
 * names the patch, the file, the hunk (number and @@ header) and why it failed.
 */
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PatchError } from '../errors.js';
import type { HunkInfo, PatchDescription, PatchedFileInfo } from './describe-patch.js';
import { describePatch, touchedPaths } from './describe-patch.js';
import { describeFuzz } from './fuzz-mismatch.js';
import type { GnuFileOutcome } from './gnu-patch.js';
import { runGnuPatch } from './gnu-patch.js';

export type HunkFailureReason =
  | 'file-missing'
  | 'context-mismatch'
  | 'already-applied'
  | 'unreadable'
  /** Applies only by ignoring context lines (fuzz), refused unless allowFuzz. */
  | 'fuzz';

export interface HunkFailure {
  patchFile: string;
  /** Path in the tree. */
  file: string;
  /** Undefined when the patch could not be read at all. */
  hunk: number | undefined;
  header: string | undefined;
  /** Function context from the hunk header, when the diff has one. */
  context: string | undefined;
  reason: HunkFailureReason;
  detail: string;
}

/** A hunk that applied, but not where the patch said, or only with fuzz. */
export interface HunkNote {
  patchFile: string;
  file: string;
  hunk: number;
  header: string;
  offset: number;
  fuzz: number;
}

export interface PatchTestReport {
  ok: boolean;
  patches: PatchDescription[];
  failures: HunkFailure[];
  notes: HunkNote[];
  /** Patches after the first failing one: not tested, their result would mean nothing. */
  untested: string[];
  /** Every tree path the series creates, changes, renames or deletes. */
  touched: string[];
}

export interface TestPatchesOptions {
  fuzz?: number;
  /** Accept hunks that apply only with fuzz (they are still reported in `notes`). */
  allowFuzz?: boolean;
  signal?: AbortSignal;
  /** Where the scratch copy goes; default the system temp directory. */
  scratchParent?: string;
}

/** True if `block` occurs as consecutive whole lines in `lines`. */
function containsLines(lines: readonly string[], block: readonly string[]): boolean {
  if (block.length === 0) return false;
  outer: for (let i = 0; i + block.length <= lines.length; i++) {
    for (let j = 0; j < block.length; j++) if (lines[i + j] !== block[j]) continue outer;
    return true;
  }
  return false;
}

function matchOutcome(
  outcome: GnuFileOutcome,
  files: PatchedFileInfo[],
  used: Set<PatchedFileInfo>,
  position: number,
): PatchedFileInfo | undefined {
  const byName = files.find(
    (f) =>
      !used.has(f) && (f.path === outcome.path || (f.oldPath !== undefined && f.oldPath === outcome.path)),
  );
  return byName ?? files.filter((f) => !used.has(f))[0] ?? files[position];
}

function failure(
  patchFile: string,
  file: string,
  hunk: HunkInfo | undefined,
  reason: HunkFailureReason,
  detail: string,
): HunkFailure {
  return {
    patchFile,
    file,
    hunk: hunk?.number,
    header: hunk?.header,
    context: hunk?.context || undefined,
    reason,
    detail,
  };
}

/** Failures and notes for one file of one patch, from GNU patch's outcome. */
function judgeFile(
  patchFile: string,
  info: PatchedFileInfo | undefined,
  outcome: GnuFileOutcome,
  before: string | undefined,
  allowFuzz = false,
): { failures: HunkFailure[]; notes: HunkNote[] } {
  const file = info?.path ?? outcome.path ?? '(unknown file)';
  const hunks = info?.hunks ?? [];
  const first = hunks[0];
  const count = `${hunks.length} hunk${hunks.length === 1 ? '' : 's'}`;
  if (outcome.missing) {
    return {
      failures: [
        failure(patchFile, file, first, 'file-missing', `${file} does not exist (${count} skipped)`),
      ],
      notes: [],
    };
  }
  if (outcome.deleteMissing) {
    const detail = `the patch deletes ${file}, which does not exist (already applied?)`;
    return { failures: [failure(patchFile, file, first, 'file-missing', detail)], notes: [] };
  }
  if (outcome.createExists) {
    const detail = `the patch creates ${file}, which already exists (already applied?)`;
    return { failures: [failure(patchFile, file, first, 'already-applied', detail)], notes: [] };
  }
  if (outcome.reversed) {
    const detail = `reversed or already applied: the tree already has these changes (${count} skipped)`;
    return { failures: [failure(patchFile, file, first, 'already-applied', detail)], notes: [] };
  }
  const lines = before?.split('\n') ?? [];
  const failures: HunkFailure[] = [];
  const notes: HunkNote[] = [];
  for (const result of outcome.hunks) {
    const hunk = hunks[result.number - 1];
    if (result.status === 'applied') {
      if (result.fuzz > 0 && !allowFuzz && hunk) {
        failures.push(fuzzFailure(patchFile, file, hunk, result, before));
        continue;
      }
      if ((result.offset !== 0 || result.fuzz !== 0) && hunk) {
        notes.push({
          patchFile,
          file,
          hunk: hunk.number,
          header: hunk.header,
          offset: result.offset,
          fuzz: result.fuzz,
        });
      }
      continue;
    }
    // GNU patch only checks the first hunk for "reversed": look at the others ourselves.
    const applied =
      hunk !== undefined && containsLines(lines, hunk.newLines) && !containsLines(lines, hunk.oldLines);
    failures.push(
      applied
        ? failure(patchFile, file, hunk, 'already-applied', `the new text of this hunk is already in ${file}`)
        : failure(
            patchFile,
            file,
            hunk ?? {
              number: result.number,
              header: `hunk #${result.number}`,
              context: '',
              oldLines: [],
              newLines: [],
            },
            'context-mismatch',
            `context does not match ${file} near line ${result.line}`,
          ),
    );
  }
  return { failures, notes };
}

/** A hunk GNU patch applied only by ignoring context: refused, showing the lines that differ. */
function fuzzFailure(
  patchFile: string,
  file: string,
  hunk: HunkInfo,
  result: { fuzz: number; offset: number; line?: number | undefined },
  before: string | undefined,
): HunkFailure {
  const differing = describeFuzz(before, hunk, result.offset, result.fuzz);
  const detail = `applies only with fuzz ${result.fuzz} (ignoring context) near line ${result.line ?? '?'} of ${file}${differing.length > 0 ? `:\n      ${differing.join('\n      ')}` : ''}`;
  return failure(patchFile, file, hunk, 'fuzz', detail);
}

/** Copies the named files that exist in `tree` into `scratch`, keeping relative paths and modes. */
async function copyInto(tree: string, scratch: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const from = join(tree, path);
    const info = await lstat(from).catch(() => undefined);
    if (!info?.isFile()) continue;
    await mkdir(dirname(join(scratch, path)), { recursive: true });
    await copyFile(from, join(scratch, path), constants.COPYFILE_FICLONE);
  }
}

/** Applies the series to a scratch copy of the files it names; the tree itself is only read. */
export async function testPatches(
  tree: string,
  patchFiles: readonly string[],
  options: TestPatchesOptions = {},
): Promise<PatchTestReport> {
  const patches: PatchDescription[] = [];
  for (const patchFile of patchFiles) {
    const text = await readFile(patchFile, 'utf8').catch((error: unknown) => {
      throw new PatchError(`cannot read patch ${patchFile}: ${(error as Error).message}`, { cause: error });
    });
    patches.push(describePatch(patchFile, text));
  }
  const touched = new Set(touchedPaths(patches));
  const scratch = await mkdtemp(join(options.scratchParent ?? tmpdir(), 'kpatch-patch-test-'));
  const report: PatchTestReport = { ok: true, patches, failures: [], notes: [], untested: [], touched: [] };
  try {
    await copyInto(tree, scratch, [...touched]);
    for (const [index, patch] of patches.entries()) {
      const before = new Map<string, string>();
      for (const f of patch.files) {
        const text = await readFile(join(scratch, f.path), 'utf8').catch(() => undefined);
        if (text !== undefined) before.set(f.path, text);
      }
      const result = await runGnuPatch({
        cwd: scratch,
        patchFile: resolve(patch.patchFile),
        ...(options.fuzz === undefined ? {} : { fuzz: options.fuzz }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const used = new Set<PatchedFileInfo>();
      const failures: HunkFailure[] = [];
      for (const [position, outcome] of result.files.entries()) {
        const info = matchOutcome(outcome, patch.files, used, position);
        if (info) used.add(info);
        if (outcome.path) touched.add(outcome.path);
        if (outcome.renamedFrom) touched.add(outcome.renamedFrom);
        const judged = judgeFile(
          patch.patchFile,
          info,
          outcome,
          info && before.get(info.path),
          options.allowFuzz,
        );
        failures.push(...judged.failures);
        report.notes.push(...judged.notes);
      }
      if (result.fatal.length > 0 || (result.exitCode !== 0 && failures.length === 0)) {
        const detail =
          result.fatal.join('; ') || `GNU patch failed (exit ${result.exitCode}): ${result.output.trim()}`;
        failures.push(failure(patch.patchFile, '(patch)', undefined, 'unreadable', detail));
      }
      if (failures.length > 0) {
        report.ok = false;
        report.failures.push(...failures);
        report.untested = patches.slice(index + 1).map((p) => p.patchFile);
        break;
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  report.touched = [...touched].sort();
  return report;
}

/** One line per failure: "fix.patch: fs/proc/cmdline.c: hunk #2 @@ -17,7 +17,7 @@ (in f): context mismatch: ..." */
export function formatHunkFailure(f: HunkFailure): string {
  const where =
    f.hunk === undefined ? '' : ` hunk #${f.hunk} ${f.header ?? ''}${f.context ? ` (${f.context})` : ''}:`;
  return `${f.patchFile}: ${f.file}:${where} ${f.reason.replace('-', ' ')}: ${f.detail}`;
}

/** The PatchError for a failed report. */
export function patchTestError(report: PatchTestReport): PatchError {
  const lines = report.failures.map((f) => `  ${formatHunkFailure(f)}`);
  if (report.untested.length > 0) lines.push(`  not tested after that: ${report.untested.join(', ')}`);
  const patchesHit = new Set(report.failures.map((f) => f.patchFile));
  const fuzzOnly = report.failures.every((f) => f.reason === 'fuzz');
  return new PatchError(`${[...patchesHit].join(', ')} does not apply:\n${lines.join('\n')}`, {
    hint: fuzzOnly
      ? 'a hunk applied with fuzz may change the wrong code: refresh the patch against this tree, or check the lines above and pass --allow-fuzz'
      : 'the patches must apply to this exact source tree with patch -p1 (refresh them against it)',
  });
}
