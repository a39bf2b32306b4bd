/**
 * Applying a distro's patches (a Debian .diff.gz, quilt series entries) to an unpacked tree with GNU patch,
 * after vetting every file the patch names: no absolute paths, no `..`, nothing through or onto a symlink,
 * no git symlink modes. Hunk bodies are skipped by their line counts, so a removed line that happens to
 * start with "--- " is not mistaken for a file header.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { PatchError, SourceError } from '../errors.js';
import { abortError } from './abort.js';

function refusePatch(where: string, name: string, why: string): SourceError {
  return new SourceError(`${where}: refusing to apply a patch to "${name}": ${why}`, {
    hint: 'the patch is malformed or crafted to write outside the tree; do not use it',
  });
}

/** File names a unified (or git) diff touches, as written, with `strip` leading components removed. */
export function patchedFiles(diff: string, strip: number, where: string): string[] {
  const names = new Set<string>();
  const lines = diff.split('\n');
  const add = (raw: string, isGit = false) => {
    const name = raw.split('\t')[0]?.trim() ?? '';
    if (name === '/dev/null' || name === '') return;
    if (name.startsWith('/')) throw refusePatch(where, name, 'absolute path');
    const parts = name.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) throw refusePatch(where, name, '".." would escape the tree');
    const kept = parts.slice(isGit ? 1 : strip);
    if (kept.length === 0) throw refusePatch(where, name, `nothing left after stripping ${strip} components`);
    names.add(kept.join('/'));
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const hunk = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
    if (hunk) {
      let oldCount = hunk[1] === undefined ? 1 : Number(hunk[1]);
      let newCount = hunk[2] === undefined ? 1 : Number(hunk[2]);
      while ((oldCount > 0 || newCount > 0) && i + 1 < lines.length) {
        const body = lines[++i] ?? '';
        if (body.startsWith('\\')) continue;
        if (body.startsWith('-')) oldCount--;
        else if (body.startsWith('+')) newCount--;
        else {
          oldCount--;
          newCount--;
        }
      }
      continue;
    }
    if (line.startsWith('--- ') || line.startsWith('+++ ') || line.startsWith('*** ')) add(line.slice(4));
    else if (/^(?:rename|copy) (?:from|to) /.test(line)) add(line.replace(/^\S+ \S+ /, ''), true);
    else if (/^(?:new file|deleted file|old|new) mode 120000/.test(line)) {
      throw refusePatch(
        where,
        lines
          .slice(0, i)
          .reverse()
          .find((l) => l.startsWith('diff --git')) ?? '?',
        'symlink',
      );
    } else if (line.startsWith('GIT binary patch')) throw refusePatch(where, '?', 'binary patch');
  }
  return [...names];
}

/** Throws if `name` (relative to `tree`) or one of its parents is a symlink. Missing parts are fine. */
async function checkNoSymlink(tree: string, name: string, where: string): Promise<void> {
  const parts = name.split('/');
  for (let n = 1; n <= parts.length; n++) {
    const path = join(tree, ...parts.slice(0, n));
    const info = await lstat(path).catch(() => undefined);
    if (!info) return;
    if (info.isSymbolicLink())
      throw refusePatch(where, name, `"${parts.slice(0, n).join('/')}" is a symlink`);
    if (n < parts.length && !info.isDirectory()) return; // patch will fail on it by itself
  }
}

export interface ApplyPatchOptions {
  /** -pN; default 1. */
  strip?: number;
  /** Names the patch in messages (file, or "linux_5.15.0-91.101.diff.gz"). */
  where: string;
  signal?: AbortSignal;
}

/** Vets and applies `diff` (the patch text) to `tree`; a hunk that does not apply exactly is a PatchError. */
export async function applyPatch(
  tree: string,
  diff: string | Buffer,
  options: ApplyPatchOptions,
): Promise<string[]> {
  const strip = options.strip ?? 1;
  const text = typeof diff === 'string' ? diff : diff.toString('latin1');
  const files = patchedFiles(text, strip, options.where);
  for (const file of files) await checkNoSymlink(tree, file, options.where);
  // As dpkg-source: no fuzz, no backups, no reject files, never reverse a patch that looks applied.
  const args = [
    '-s',
    '-t',
    '-N',
    '-F',
    '0',
    '-E',
    '-u',
    '--no-backup-if-mismatch',
    '-r',
    '-',
    `-p${strip}`,
    '-d',
    tree,
  ];
  const result = await execa('patch', args, {
    input: typeof diff === 'string' ? diff : diff,
    reject: false,
    cancelSignal: options.signal,
    env: { LC_ALL: 'C' },
  });
  if (options.signal?.aborted) throw abortError(options.signal);
  if (result.failed) {
    const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT') {
      throw new SourceError('GNU patch is not installed', { hint: 'install it: apt-get install patch' });
    }
    const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(0, 12).join('\n');
    throw new PatchError(`${options.where} does not apply to ${tree}:\n${output}`, {
      hint: 'the source tarball and the patch do not belong together (wrong version?)',
    });
  }
  return files;
}
