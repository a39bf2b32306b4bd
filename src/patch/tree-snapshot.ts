/**
 * Saves the files a patch series will touch so the tree can be put back exactly. Each existing file is
 * renamed to `.<name>.kpatch-orig` in its own directory and a copy is put in its place for patch to
 * edit; restoring renames the original back. Renaming keeps the original inode, so content, mode and the
 * nanosecond mtime make compares are all exactly as before — the tree's objects never look stale.
 * Files the series creates are removed again, with the directories made for them. Everything here is
 * synchronous so it can run from signal and exit handlers. A run killed with SIGKILL leaves the
 * `.kpatch-orig` files behind with a record of them (restore-journal.ts), which the next run uses to put
 * the tree back; without the record the next snapshot refuses to start and says how to do it by hand.
 */
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { PatchError } from '../errors.js';
import { backupPathFor, removeRestoreJournal, writeRestoreJournal } from './restore-journal.js';

export { backupPathFor };

interface Entry {
  path: string;
  existed: boolean;
  /** Absolute path of the saved original, once it has been moved aside. */
  backup: string | undefined;
}

export interface FileChanges {
  changed: string[];
  created: string[];
  deleted: string[];
}

export interface TreeSnapshot {
  readonly tree: string;
  readonly restored: boolean;
  /** Compares the tree with the saved originals. */
  changes(): FileChanges;
  /** Puts every saved file back and removes created ones; idempotent. */
  restoreSync(): void;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Times of a directory with the most precision utimes accepts (seconds as a double). */
function dirTimes(path: string): { atime: number; mtime: number } | undefined {
  try {
    const s = statSync(path, { bigint: true });
    return { atime: Number(s.atimeNs) / 1e9, mtime: Number(s.mtimeNs) / 1e9 };
  } catch {
    return undefined;
  }
}

/**
 * Saves `paths` (relative to tree). Synchronous from start to end, so no signal handler can run while
 * only some files are saved.
 */
export function takeSnapshot(tree: string, paths: readonly string[]): TreeSnapshot {
  for (const path of paths) {
    const leftover = backupPathFor(join(tree, path));
    if (exists(leftover)) {
      throw new PatchError(`${leftover} exists: an earlier run was killed while its patches were applied`, {
        hint: `put the original back with: mv '${leftover}' '${join(tree, path)}' (for every *.kpatch-orig file in the tree)`,
      });
    }
  }
  const entries: Entry[] = paths.map((path) => ({
    path,
    existed: exists(join(tree, path)),
    backup: undefined,
  }));
  // Directories that will need removing (made for new files) and whose times we put back.
  const createdDirs = new Set<string>();
  const times = new Map<string, { atime: number; mtime: number }>();
  for (const entry of entries) {
    let dir = dirname(join(tree, entry.path));
    while (dir.length > tree.length && !exists(dir)) {
      createdDirs.add(dir);
      dir = dirname(dir);
    }
    const t = dirTimes(dir);
    if (t) times.set(dir, t);
    if (entry.existed) {
      const parent = dirname(join(tree, entry.path));
      const pt = dirTimes(parent);
      if (pt) times.set(parent, pt);
    }
  }
  let restored = false;
  const restoreSync = () => {
    if (restored) return;
    for (const entry of entries) {
      const file = join(tree, entry.path);
      if (entry.backup !== undefined) {
        mkdirSync(dirname(file), { recursive: true }); // patch removes directories it emptied
        renameSync(entry.backup, file);
      } else if (!entry.existed) {
        rmSync(file, { force: true });
      }
    }
    for (const dir of [...createdDirs].sort((a, b) => b.length - a.length)) {
      try {
        if (readdirSync(dir).length === 0) rmdirSync(dir);
      } catch {
        // already gone
      }
    }
    for (const [dir, t] of times) {
      try {
        utimesSync(dir, t.atime, t.mtime);
      } catch {
        // best effort: make ignores directory times for kbuild's order-only prerequisites
      }
    }
    removeRestoreJournal(tree);
    restored = true;
  };
  const snapshot: TreeSnapshot = {
    tree,
    get restored() {
      return restored;
    },
    changes() {
      const result: FileChanges = { changed: [], created: [], deleted: [] };
      for (const entry of entries) {
        const now = exists(join(tree, entry.path));
        if (!entry.existed && now) result.created.push(entry.path);
        else if (entry.existed && !now) result.deleted.push(entry.path);
        else if (entry.backup !== undefined && now) {
          const before = readFileSync(entry.backup);
          const after = readFileSync(join(tree, entry.path));
          const modeChanged = lstatSync(entry.backup).mode !== lstatSync(join(tree, entry.path)).mode;
          if (modeChanged || !before.equals(after)) result.changed.push(entry.path);
        }
      }
      return result;
    },
    restoreSync,
  };
  try {
    writeRestoreJournal(
      tree,
      entries.map((e) => ({ path: e.path, existed: e.existed })),
    );
    for (const entry of entries) {
      if (!entry.existed) continue;
      const file = join(tree, entry.path);
      if (!lstatSync(file).isFile()) continue; // patch cannot edit it anyway; GNU patch will complain
      const backup = backupPathFor(file);
      renameSync(file, backup);
      entry.backup = backup;
      copyFileSync(backup, file); // keeps the mode
    }
  } catch (error) {
    restoreSync();
    throw new PatchError(`cannot save the files the patches change: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return snapshot;
}
