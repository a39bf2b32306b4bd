import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffObjects } from '../../src/diff/create-diff-object.js';
import type { ParentSymbols } from '../../src/diff/parent-symbols.js';
import { ObjectSymbols } from '../../src/symbols/resolve-sympos.js';
import { compileFixturePair, readFixtureSpec } from './support/compile-fixture.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A vmlinux as kallsyms shows it: addresses, no source files; `show` three times. */
function kallsymsParent(showCallerAt: bigint): ParentSymbols {
  const symbols = [
    { name: 'show', address: 0x1000n },
    { name: 'show', address: 0x5000n },
    { name: 'show', address: 0x9000n },
    { name: 'show_caller', address: showCallerAt },
  ];
  return { parent: 'vmlinux', table: new ObjectSymbols('vmlinux', symbols), exports: new Set() };
}

describe('positions of a patched static whose name is not unique in kallsyms', () => {
  it.each([
    [0x5040n, 2],
    [0x8f00n, 3],
  ])('with the object placed at %s, the copy nearest to it is position %i', async (at, position) => {
    const dir = await mkdtemp(join(tmpdir(), 'nearest-sympos-'));
    dirs.push(dir);
    const paths = await compileFixturePair(await readFixtureSpec('static-function-changed'), dir);
    const { report } = diffObjects({
      origPath: paths.orig,
      orig: await readFile(paths.orig),
      patchedPath: paths.patched,
      patched: await readFile(paths.patched),
      parentSymbols: kallsymsParent(at),
    });
    expect(report.changedFunctions).toEqual(['show']);
    expect(report.nearestSympos).toEqual({ show: position });
  });
});
