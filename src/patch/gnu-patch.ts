/**
 * Runs GNU patch and reads what it says. GNU patch is what kernel engineers expect: its fuzz and offset
 * rules accept patches that jsdiff's applyPatch refuses. Messages are parsed with LC_ALL=C and literal
 * file-name quoting so the format is stable.
 */
import { execa } from 'execa';
import { PatchError } from '../errors.js';
import { abortError } from '../source/abort.js';
import { stripPath } from './describe-patch.js';

export interface GnuHunkOutcome {
  number: number;
  status: 'applied' | 'failed' | 'ignored';
  /** Line the hunk was (or would have been) applied at. */
  line: number | undefined;
  offset: number;
  fuzz: number;
}

export interface GnuFileOutcome {
  /** The file as GNU patch names it (relative to where it ran). */
  path: string | undefined;
  renamedFrom: string | undefined;
  /** "can't find file to patch". */
  missing: boolean;
  /** "Reversed (or previously applied) patch detected!" */
  reversed: boolean;
  /** "The next patch would create the file X, which already exists!" */
  createExists: boolean;
  /** "The next patch would delete the file X, which does not exist!" */
  deleteMissing: boolean;
  hunks: GnuHunkOutcome[];
}

export interface GnuPatchResult {
  exitCode: number;
  output: string;
  files: GnuFileOutcome[];
  /** "patch: **** ..." lines: the patch could not be read at all. */
  fatal: string[];
}

function newFile(path: string | undefined): GnuFileOutcome {
  return {
    path,
    renamedFrom: undefined,
    missing: false,
    reversed: false,
    createExists: false,
    deleteMissing: false,
    hunks: [],
  };
}

const FILE_LINE = /^(?:patching|checking) file (.+?)(?: \((?:renamed|copied) from (.+)\))?$/;
const NEXT_PATCH_WOULD = /^The next patch would (create|delete) the file (.+),$/;
const HUNK_LINE =
  /^Hunk #(\d+) (FAILED|succeeded|ignored) at (\d+)(?: with fuzz (\d+))?(?: \(offset (-?\d+) lines?\))?/;

/** Parses GNU patch 2.7's messages into per-file outcomes, in patch order. */
export function parseGnuPatchOutput(output: string, strip = 1): GnuFileOutcome[] {
  const files: GnuFileOutcome[] = [];
  let current: GnuFileOutcome | undefined;
  let inQuote = false;
  const start = (path: string | undefined): GnuFileOutcome => {
    current = newFile(path);
    files.push(current);
    return current;
  };
  for (const line of output.split('\n')) {
    if (inQuote) {
      // The headers GNU patch quotes after "can't find file to patch": recover the name from them.
      const header = /^\|(\+\+\+|---) (\S+)/.exec(line);
      const git = /^\|diff --git \S+ (\S+)/.exec(line);
      if (current && header) {
        const name = stripPath(header[2], strip);
        if (name && (current.path === undefined || header[1] === '+++')) current.path = name;
      } else if (current && current.path === undefined && git) {
        current.path = stripPath(git[1], strip);
      } else if (line.startsWith('No file to patch.')) inQuote = false;
      continue;
    }
    const fileLine = FILE_LINE.exec(line);
    if (fileLine) {
      start(fileLine[1]).renamedFrom = fileLine[2];
      continue;
    }
    if (line.startsWith("can't find file to patch at input line")) {
      start(undefined).missing = true;
      inQuote = true;
      continue;
    }
    const would = NEXT_PATCH_WOULD.exec(line);
    if (would) {
      const file = start(would[2]);
      if (would[1] === 'create') file.createExists = true;
      else file.deleteMissing = true;
      continue;
    }
    if (line.startsWith('Reversed (or previously applied) patch detected!')) {
      (current ?? start(undefined)).reversed = true;
      continue;
    }
    const hunk = HUNK_LINE.exec(line);
    if (hunk) {
      const status = hunk[2] === 'FAILED' ? 'failed' : hunk[2] === 'ignored' ? 'ignored' : 'applied';
      (current ?? start(undefined)).hunks.push({
        number: Number(hunk[1]),
        status,
        line: Number(hunk[3]),
        fuzz: Number(hunk[4] ?? 0),
        offset: Number(hunk[5] ?? 0),
      });
    }
  }
  return files;
}

export interface RunGnuPatchOptions {
  /** Directory the patch applies in. */
  cwd: string;
  patchFile: string;
  dryRun?: boolean;
  reverse?: boolean;
  /** Maximum fuzz (patch -F); GNU patch's default is 2. */
  fuzz?: number;
  strip?: number;
  signal?: AbortSignal;
  /** Called with the child while it runs, so a signal handler can kill it. */
  onSpawn?: (pid: number | undefined) => void;
}

/** Runs `patch` once; never throws for hunks that fail (see the result), only if patch cannot run. */
export async function runGnuPatch(options: RunGnuPatchOptions): Promise<GnuPatchResult> {
  const strip = options.strip ?? 1;
  const args = [
    `-p${strip}`,
    `-F${options.fuzz ?? 2}`,
    '--forward', // an already applied patch is reported, never silently reversed
    '--batch',
    '--no-backup-if-mismatch',
    '--reject-file=-',
    '--quoting-style=literal',
    '-i',
    options.patchFile,
  ];
  if (options.dryRun) args.push('--dry-run');
  if (options.reverse) args.push('--reverse');
  const child = execa('patch', args, {
    cwd: options.cwd,
    all: true,
    reject: false,
    stdin: 'ignore',
    env: { LC_ALL: 'C', QUOTING_STYLE: 'literal' },
    ...(options.signal ? { cancelSignal: options.signal } : {}),
  });
  options.onSpawn?.(child.pid);
  const result = await child;
  options.onSpawn?.(undefined);
  if (options.signal?.aborted && result.failed) throw abortError(options.signal);
  const output = result.all ?? '';
  if (result.exitCode === undefined) {
    throw new PatchError(`cannot run GNU patch: ${result.shortMessage}`, {
      hint: 'install it (Debian: apt-get install patch)',
    });
  }
  const fatal = output.split('\n').filter((l) => l.startsWith('patch: **** '));
  return { exitCode: result.exitCode, output, files: parseGnuPatchOutput(output, strip), fatal };
}
