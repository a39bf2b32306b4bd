import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffObjects } from '../../src/diff/create-diff-object.js';
import { findSection } from '../../src/elf/index.js';
import { compileFixturePair, readFixtureSpec } from './support/compile-fixture.js';
import { diffFixtureOutput, relocationsOf } from './support/diff-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cdo-entries-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('special sections that are not a whole number of records', () => {
  it('keeps the short last record, completed to a whole one', async () => {
    const { elf } = await diffFixtureOutput('para-table-last-record-short', dir);
    const para = findSection(elf, '.parainstructions')!;
    expect(para.size).toBe(16);
    // type 2, length 3, then the 6 bytes the assembler did not write.
    expect([...para.data.subarray(8)]).toEqual([2, 3, 0, 0, 0, 0, 0, 0]);
    expect(relocationsOf(elf, '.parainstructions').map((r) => [Number(r.offset), r.symbol?.name])).toEqual([
      [0, 'second'],
    ]);
  });

  it('refuses records it cannot delimit, naming the section and the offset', async () => {
    const spec = await readFixtureSpec('ex-table-undelimitable');
    const paths = await compileFixturePair(spec, dir);
    const { report } = diffObjects({
      origPath: paths.orig,
      orig: await readFile(paths.orig),
      patchedPath: paths.patched,
      patched: await readFile(paths.patched),
      structSizes: spec.sizes,
    });
    expect(report.refusals.map((r) => r.message)).toEqual([
      '__ex_table (28 bytes) cannot be cut into 12-byte entries: no relocation starts the 12-byte record at 0xc',
    ]);
  });
});
