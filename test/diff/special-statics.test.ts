import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ElfFile } from '../../src/elf/index.js';
import { findSection } from '../../src/elf/index.js';
import { diffFixtureOutput, relocationsOf } from './support/diff-fixture.js';

/** sizeof(struct _ddebug) in the fixtures' kernel.h: four pointers, one word of bit fields, the key (40). */
const DDEBUG_SIZE = 40;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cdo-special-statics-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function diffFixture(name: string): Promise<ElfFile> {
  return (await diffFixtureOutput(name, dir)).elf;
}

describe('per-site statics are copied one by one', () => {
  it('a patched pr_debug() caller carries exactly its descriptors, keyed by its jump labels', async () => {
    const elf = await diffFixture('dyndbg-patched-caller');
    const dyndbg = findSection(elf, '__dyndbg');
    // take_ref's two descriptors, laid end to end; drop_ref's stays in the module.
    expect(dyndbg?.size).toBe(2 * DDEBUG_SIZE);
    const descriptors = elf.symbols
      .filter((s) => s.section === dyndbg)
      .sort((a, b) => Number(a.value - b.value));
    expect(descriptors.map((s) => [s.name.replace(/\d+(\.\d+)?$/, ''), Number(s.value)])).toEqual([
      ['__UNIQUE_ID_ddebug', 0],
      ['__UNIQUE_ID_ddebug', DDEBUG_SIZE],
    ]);
    // Each descriptor's format and __func__ pointers moved with it (4 pointers each).
    expect(relocationsOf(elf, '__dyndbg').map((r) => Number(r.offset))).toEqual([
      0, 8, 16, 24, 40, 48, 56, 64,
    ]);
    // Two jump labels, each keyed on one of the copied descriptors' static key.
    const keys = relocationsOf(elf, '__jump_table').filter((r) => r.offset % 16n === 8n);
    expect(keys.map((r) => r.symbol?.section?.name ?? r.symbol?.name)).toEqual(['__dyndbg', '__dyndbg']);
    expect(new Set(keys.map((r) => r.symbol))).toEqual(new Set(descriptors));
  });

  it('a changed function gets its own one-shot flags, not its neighbours', async () => {
    const elf = await diffFixture('once-flags-lines-moved');
    const once = findSection(elf, '.data.once');
    expect(once?.size).toBe(2);
    expect(
      elf.symbols
        .filter((s) => s.section === once)
        .map((s) => Number(s.value))
        .sort(),
    ).toEqual([0, 1]);
  });
});
