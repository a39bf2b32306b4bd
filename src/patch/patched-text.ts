/**
 * A file's text after the patches, without touching the tree: each patch's part for that file is cut out
 * (jsdiff reads the patch) and applied by GNU patch to a copy, so offsets and fuzz follow the same rules
 * as the real build. Used to see what a header change changes before deciding what to compile.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatPatch, parsePatch } from 'diff';
import { execa } from 'execa';
import { stripPath } from './describe-patch.js';

/**
 * `path` (relative to `root`) with the patches applied in order; undefined when GNU patch cannot apply
 * a part in isolation (the caller then assumes the worst about the change).
 */
export async function patchedText(
  root: string,
  patches: readonly string[],
  path: string,
  allowFuzz: boolean,
): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'kpatch-build-header-'));
  try {
    const current = join(dir, 'file');
    const original = await readFile(join(root, path), 'latin1').catch(() => '');
    await writeFile(current, original, 'latin1');
    for (const [n, patch] of patches.entries()) {
      const parts = parsePatch(await readFile(patch, 'latin1')).filter(
        (p) => (stripPath(p.newFileName) ?? stripPath(p.oldFileName)) === path,
      );
      if (parts.length === 0) continue;
      const part = join(dir, `part-${n}.patch`);
      await writeFile(part, formatPatch(parts), 'latin1');
      const result = await execa(
        'patch',
        [
          '--silent',
          '--force',
          '-N',
          ...(allowFuzz ? [] : ['-F0']),
          '-o',
          `${current}.new`,
          current,
          '-i',
          part,
        ],
        { reject: false },
      );
      if (result.failed) return undefined;
      await rm(current);
      await writeFile(current, await readFile(`${current}.new`));
      await rm(`${current}.new`);
    }
    return await readFile(current, 'latin1');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
