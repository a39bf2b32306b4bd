/** How hunks that did not apply exactly where the patch said are reported (log, stderr and JSON). */
import type { HunkNote } from './test-patches.js';

/** "fix.patch: fs/proc/cmdline.c: hunk #1 @@ -6,8 +6,7 @@ applied at offset +3 lines (with fuzz 1, --allow-fuzz)" */
export function formatHunkNote(note: HunkNote): string {
  const offset =
    note.offset === 0 ? 'at its line' : `at offset ${note.offset > 0 ? '+' : ''}${note.offset} lines`;
  const fuzz = note.fuzz > 0 ? ` with fuzz ${note.fuzz} (--allow-fuzz: context lines ignored)` : '';
  return `${note.patchFile}: ${note.file}: hunk #${note.hunk} ${note.header} applied ${offset}${fuzz}`;
}
