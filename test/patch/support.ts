import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { execa } from 'execa';

/** 40 numbered lines, like a small source file. */
export const NUMBERED = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';

export function replaceLines(text: string, changes: Record<number, string>): string {
  const lines = text.split('\n');
  for (const [n, value] of Object.entries(changes)) lines[Number(n) - 1] = value;
  return lines.join('\n');
}

export async function makeTree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kpatch-tree-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  // Old timestamps with nanoseconds, so a restore that loses precision or touches a file shows.
  await execa('find', [dir, '-exec', 'touch', '-h', '-d', '2020-01-02 03:04:05.123456789', '{}', '+']);
  return dir;
}

/** A -p1 patch changing `path` from `before` to `after` (either undefined for create/delete). */
export function filePatch(path: string, before: string | undefined, after: string | undefined): string {
  const oldName = before === undefined ? '/dev/null' : `a/${path}`;
  const newName = after === undefined ? '/dev/null' : `b/${path}`;
  const text = createTwoFilesPatch(oldName, newName, before ?? '', after ?? '', undefined, undefined, {
    context: 3,
  });
  // Drop jsdiff's "=====" banner line: GNU patch does not need it and real patches lack it.
  return text.replace(/^=+\n/, '');
}

export async function writePatch(dir: string, name: string, ...parts: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, parts.join(''));
  return path;
}

export interface EntryState {
  type: 'file' | 'dir' | 'other';
  sha?: string;
  mode: number;
  mtimeNs: bigint;
}

/** Everything restore must keep: every entry's type, content hash, mode and file mtimes (ns). */
export async function treeState(root: string): Promise<Map<string, EntryState>> {
  const state = new Map<string, EntryState>();
  const walk = async (rel: string) => {
    for (const entry of await readdir(join(root, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const s = await lstat(join(root, path), { bigint: true });
      if (entry.isDirectory()) {
        state.set(path, { type: 'dir', mode: Number(s.mode), mtimeNs: 0n });
        await walk(path);
      } else if (entry.isFile()) {
        const sha = createHash('sha256')
          .update(await readFile(join(root, path)))
          .digest('hex');
        state.set(path, { type: 'file', sha, mode: Number(s.mode), mtimeNs: s.mtimeNs });
      } else state.set(path, { type: 'other', mode: Number(s.mode), mtimeNs: s.mtimeNs });
    }
  };
  await walk('');
  return state;
}
