import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { exitCodeTable } from '../../src/cli/exit-codes.js';

const doc = await readFile(new URL('../../docs/exit-codes.md', import.meta.url), 'utf8');
const rows = [...doc.matchAll(/^\| ([a-z-]+) \| (\d+) \|/gm)].map((m) => [m[1]!, Number(m[2])] as const);
const probe = new URL('./support/throw-code.ts', import.meta.url).pathname;

describe('docs/exit-codes.md', () => {
  it('lists exactly the codes the CLI uses', () => {
    expect(new Map(rows)).toEqual(new Map(exitCodeTable()));
  });

  // Behaviour, not the table: a process whose command fails with that code exits as the doc says, with
  // one ERROR line and its hint, and a stack only for -d.
  it.concurrent.each(rows)('%s exits %i', async (code, exit) => {
    const result = await execa('node', ['--import', 'tsx', probe, code], { reject: false });
    expect(result.exitCode).toBe(exit);
    expect(result.stderr).toMatch(
      code === 'internal' ? /^probe: internal error: a bug$/m : /^probe: ERROR: /m,
    );
    // Every failure but an interrupt (the user asked for it) tells what to do next.
    if (code !== 'interrupted') expect(result.stderr).toMatch(/^probe: hint: /m);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('shows the stack of an internal error with -d', async () => {
    const result = await execa('node', ['--import', 'tsx', probe, 'internal', '-d'], { reject: false });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^TypeError: a bug\n\s+at /m);
  });
});
