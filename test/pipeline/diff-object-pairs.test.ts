import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeElf } from '../../src/elf/index.js';
import type { ObjectPair } from '../../src/pipeline/build-objects.js';
import { diffObjectPairs } from '../../src/pipeline/diff-object-pairs.js';
import { compileFixturePair, readFixtureSpec } from '../diff/support/compile-fixture.js';

// Fixtures with a functional change, diffed as one build's objects.
const FIXTURES = [
  'condition-flip',
  'new-static-helper',
  'string-changed',
  'cold-parent-changed',
  'switch-table-changed',
  'weak-function-changed',
];

let dir: string;
let pairs: ObjectPair[];
let symvers: string;

function pairOf(name: string, paths: { orig: string; patched: string }): ObjectPair {
  const compiled = (output: string) => ({ output, command: '', logFile: '' });
  return {
    object: {
      target: `${name}.o`,
      source: `${name}.c`,
      causes: [`${name}.c`],
      parent: { kind: 'vmlinux', name: 'vmlinux', via: [] },
    },
    orig: compiled(paths.orig),
    patched: compiled(paths.patched),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diff-pairs-'));
  symvers = join(dir, 'Module.symvers');
  await writeFile(symvers, '');
  pairs = await Promise.all(
    FIXTURES.map(async (name) => pairOf(name, await compileFixturePair(await readFixtureSpec(name), dir))),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function diff(threads: number, list = pairs) {
  // The first fixture's original object stands in for vmlinux's symbol table.
  return diffObjectPairs({
    pairs: list,
    tree: dir,
    vmlinuxSymbols: { format: 'elf', path: pairs[0]!.orig.output },
    moduleSymvers: symvers,
    threads,
  });
}

describe('diffObjectPairs', () => {
  it('gives the same reports and objects on worker threads as on the main thread', async () => {
    const [serial, parallel] = [await diff(1), await diff(2)];
    expect(parallel.map((c) => c.pair.object.target)).toEqual(FIXTURES.map((f) => `${f}.o`));
    expect(parallel.map((c) => c.report)).toEqual(serial.map((c) => c.report));
    expect(parallel.map((c) => serializeElf(c.output))).toEqual(serial.map((c) => serializeElf(c.output)));
  });

  it.each([1, 2])('reports a malformed object from %i thread(s) as an ELF format error', async (threads) => {
    const broken = join(dir, 'broken.o');
    await writeFile(broken, Buffer.alloc(0));
    await truncate(broken, 10);
    const list = [...pairs.slice(0, 3), { ...pairs[3]!, patched: { ...pairs[3]!.patched, output: broken } }];
    await expect(diff(threads, list)).rejects.toMatchObject({ code: 'elf-format' });
  });
});
