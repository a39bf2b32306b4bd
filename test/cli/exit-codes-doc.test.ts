import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { exitCodeTable } from '../../src/cli/exit-codes.js';

describe('docs/exit-codes.md', () => {
  it('lists exactly the codes the CLI uses', async () => {
    const doc = await readFile(new URL('../../docs/exit-codes.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| ([a-z-]+) \| (\d+) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(new Map(rows as Array<[string, number]>)).toEqual(new Map(exitCodeTable()));
  });
});
