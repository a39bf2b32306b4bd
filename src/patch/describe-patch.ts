/**
 * What a patch file touches, for messages and for knowing which files to save: jsdiff's parser reads
 * unified and git-style diffs (new, deleted, renamed files) well. Applying is left to GNU patch, whose
 * fuzz and offset rules are the ones kernel engineers know; jsdiff only describes.
 */
import { posix } from 'node:path';
import { parsePatch } from 'diff';
import { PatchError } from '../errors.js';

export interface HunkInfo {
  /** 1-based, within its file, as GNU patch counts. */
  number: number;
  /** "@@ -17,7 +17,7 @@" */
  header: string;
  /** The function context after the header, e.g. "static int cmdline_proc_show(...)". */
  context: string;
  /** Lines of the old and new side (context included), for "already applied" checks. */
  oldLines: string[];
  newLines: string[];
}

export type FileChangeKind = 'modify' | 'create' | 'delete' | 'rename' | 'copy';

export interface PatchedFileInfo {
  /** Path in the tree after stripping one component (-p1); the new name for renames. */
  path: string;
  /** The old path when it differs (renames, copies). */
  oldPath: string | undefined;
  kind: FileChangeKind;
  hunks: HunkInfo[];
}

export interface PatchDescription {
  patchFile: string;
  files: PatchedFileInfo[];
}

/** Strips `strip` leading components like patch -pN; undefined for /dev/null. */
export function stripPath(name: string | undefined, strip = 1): string | undefined {
  if (name === undefined || name === '/dev/null' || name === '') return undefined;
  const clean = name.replace(/^"(.*)"$/, '$1');
  const parts = clean.split('/').filter((p) => p !== '');
  return parts.slice(strip).join('/') || undefined;
}

const EPOCH = /^1970-01-01|^1969-12-31/;

/** Refuses paths that would leave the tree (absolute after stripping, or with ".."). */
function checkInsideTree(patchFile: string, path: string): void {
  const normal = posix.normalize(path);
  if (normal.startsWith('../') || normal === '..' || posix.isAbsolute(normal)) {
    throw new PatchError(`${patchFile}: refers to ${path}, outside the source tree`);
  }
}

/** Parses a patch; throws PatchError if it holds no file changes. */
export function describePatch(patchFile: string, text: string, strip = 1): PatchDescription {
  let parsed: ReturnType<typeof parsePatch>;
  try {
    parsed = parsePatch(text);
  } catch (error) {
    throw new PatchError(`${patchFile}: not a patch jsdiff can read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  // Hunk headers as written, in file order: jsdiff normalises the numbers, messages should not.
  const headers = [...text.matchAll(/^(@@ -\S+ \+\S+ @@)(.*)$/gm)];
  let headerIndex = 0;
  const files: PatchedFileInfo[] = [];
  for (const entry of parsed) {
    const oldPath = stripPath(entry.oldFileName, strip);
    const newPath = stripPath(entry.newFileName, strip);
    const allAdded = entry.hunks.length > 0 && entry.hunks.every((h) => h.oldLines === 0);
    const allRemoved = entry.hunks.length > 0 && entry.hunks.every((h) => h.newLines === 0);
    let kind: FileChangeKind = 'modify';
    if (entry.isCreate || oldPath === undefined || (allAdded && EPOCH.test(entry.oldHeader ?? ''))) {
      kind = 'create';
    } else if (entry.isDelete || newPath === undefined || (allRemoved && EPOCH.test(entry.newHeader ?? ''))) {
      kind = 'delete';
    } else if (entry.isRename) kind = 'rename';
    else if (entry.isCopy) kind = 'copy';
    const path = kind === 'delete' ? oldPath : (newPath ?? oldPath);
    if (path === undefined) continue; // no usable name: GNU patch will say so
    checkInsideTree(patchFile, path);
    if (oldPath) checkInsideTree(patchFile, oldPath);
    const hunks = entry.hunks.map((hunk, i) => {
      const written = headers[headerIndex++];
      return {
        number: i + 1,
        header: written?.[1] ?? `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`,
        context: written?.[2]?.trim() ?? '',
        oldLines: hunk.lines.filter((l) => l[0] === ' ' || l[0] === '-').map((l) => l.slice(1)),
        newLines: hunk.lines.filter((l) => l[0] === ' ' || l[0] === '+').map((l) => l.slice(1)),
      };
    });
    files.push({
      path,
      oldPath: oldPath !== undefined && oldPath !== path ? oldPath : undefined,
      kind,
      hunks,
    });
  }
  if (files.length === 0) throw new PatchError(`${patchFile}: contains no file changes`);
  return { patchFile, files };
}

/** Every path a description may create, change or remove. */
export function touchedPaths(descriptions: readonly PatchDescription[]): string[] {
  const paths = new Set<string>();
  for (const d of descriptions) {
    for (const f of d.files) {
      paths.add(f.path);
      if (f.oldPath) paths.add(f.oldPath);
    }
  }
  return [...paths];
}
