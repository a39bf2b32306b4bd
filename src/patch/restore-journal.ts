/**
 * A record, in the tree, of the files a patch series is about to change, written before any file is
 * moved and removed once the tree is restored. A run killed with SIGKILL (a build-farm timeout) cannot
 * restore; the next run, holding the tree's lock, finds the record and puts the tree back first.
 */
import { existsSync, lstatSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PatchError } from '../errors.js';

const JOURNAL = '.kpatch-build-restore.json';

interface Journal {
  pid: number;
  files: Array<{ path: string; existed: boolean }>;
}

export function backupPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.kpatch-orig`);
}

export function writeRestoreJournal(tree: string, files: Journal['files']): void {
  const journal: Journal = { pid: process.pid, files };
  writeFileSync(join(tree, JOURNAL), `${JSON.stringify(journal)}\n`);
}

export function removeRestoreJournal(tree: string): void {
  rmSync(join(tree, JOURNAL), { force: true });
}

function isPresent(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Puts back what a killed run left patched: saved originals are renamed back, files it created are
 * removed. Only call it while holding the tree's lock (no other run can be patching). Returns the paths
 * restored; none when there is no record.
 */
export function recoverKilledRun(tree: string): string[] {
  const file = join(tree, JOURNAL);
  if (!existsSync(file)) return [];
  let journal: Journal;
  try {
    journal = JSON.parse(readFileSync(file, 'utf8')) as Journal;
  } catch (cause) {
    throw new PatchError(`${file} is unreadable: an earlier run was killed while its patches were applied`, {
      cause,
      hint: 'put every *.kpatch-orig file back by hand (mv .x.kpatch-orig x), then remove the record',
    });
  }
  const restored: string[] = [];
  for (const entry of journal.files) {
    const path = join(tree, entry.path);
    const backup = backupPathFor(path);
    if (isPresent(backup)) {
      renameSync(backup, path);
      restored.push(entry.path);
    } else if (!entry.existed && isPresent(path)) {
      rmSync(path, { force: true });
      restored.push(entry.path);
    }
  }
  rmSync(file, { force: true });
  return restored;
}
