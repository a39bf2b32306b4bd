import { describe, expect, it } from 'vitest';
import { parseGnuPatchOutput } from '../../src/patch/gnu-patch.js';

describe('parseGnuPatchOutput', () => {
  it('reads hunk results, offsets and fuzz per file', () => {
    const files = parseGnuPatchOutput(
      [
        'checking file d/f.txt',
        'Hunk #1 succeeded at 3 with fuzz 1 (offset 1 line).',
        'Hunk #2 FAILED at 17.',
        '1 out of 2 hunks FAILED',
        'patching file h2.txt (renamed from h.txt)',
      ].join('\n'),
    );
    expect(files).toEqual([
      expect.objectContaining({
        path: 'd/f.txt',
        hunks: [
          { number: 1, status: 'applied', line: 3, fuzz: 1, offset: 1 },
          { number: 2, status: 'failed', line: 17, fuzz: 0, offset: 0 },
        ],
      }),
      expect.objectContaining({ path: 'h2.txt', renamedFrom: 'h.txt', hunks: [] }),
    ]);
  });

  it('recovers the name of a missing file from the quoted headers', () => {
    const files = parseGnuPatchOutput(
      [
        "can't find file to patch at input line 3",
        'Perhaps you used the wrong -p or --strip option?',
        'The text leading up to this was:',
        '--------------------------',
        '|--- a/src/missing.c',
        '|+++ b/src/missing.c',
        '--------------------------',
        'No file to patch.  Skipping patch.',
        '1 out of 1 hunk ignored',
        'The next patch would create the file n.txt,',
        'which already exists!  Skipping patch.',
        'patching file a.c',
        'Reversed (or previously applied) patch detected!  Skipping patch.',
      ].join('\n'),
    );
    expect(files.map((f) => [f.path, f.missing, f.createExists, f.reversed])).toEqual([
      ['src/missing.c', true, false, false],
      ['n.txt', false, true, false],
      ['a.c', false, false, true],
    ]);
  });
});
