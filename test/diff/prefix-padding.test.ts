import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffObjects } from '../../src/diff/create-diff-object.js';
import { findSection, parseElf, relocationsOf, SHF_LINK_ORDER, serializeElf } from '../../src/elf/index.js';
import { FIXTURE_DIR, KERNEL_LIKE_FLAGS } from './support/compile-fixture.js';

// Debian 13's kernel (CALL_PADDING, X86_KERNEL_IBT, RETHUNK) compiles every function with 16 bytes of
// NOP padding before its symbol, an ENDBR at the symbol and returns through the return thunk. The host's
// gcc makes the same layout with the same flags (see docs/ibt-and-call-thunks.md).
const PADDED_FLAGS = [
  ...KERNEL_LIKE_FLAGS.filter((f) => f !== '-fcf-protection=none'),
  '-fcf-protection=branch',
  '-fpatchable-function-entry=16,16',
  '-mfunction-return=thunk-extern',
  '-mindirect-branch=thunk-extern',
];

let dir: string;
const compile = async (label: string, defines: string[]) => {
  const out = join(dir, `${label}.o`);
  await execa('gcc', [...PADDED_FLAGS, ...defines, '-c', '-o', out, join(FIXTURE_DIR, 'simple-change.c')]);
  return out;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cdo-padding-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('create-diff-object on prefix-padded (CALL_PADDING) objects', () => {
  it('sees the function after its NOP padding as owning its section, and keeps the padding', async () => {
    const [origPath, patchedPath] = await Promise.all([
      compile('orig', []),
      compile('patched', ['-DPATCHED']),
    ]);
    const orig = await readFile(origPath);
    const padded = parseElf(orig).symbols.find((s) => s.name === 'compute');
    expect(padded?.value).toBe(16n); // the layout under test really is padded
    const { report, output } = diffObjects({
      origPath,
      orig,
      patchedPath,
      patched: await readFile(patchedPath),
      parentSymbols: undefined,
    });
    expect(report.refusals).toEqual([]);
    expect(report.changedFunctions).toEqual(['compute']);
    const elf = parseElf(serializeElf(output!));
    const fn = elf.symbols.find((s) => s.name === 'compute');
    expect(fn?.value).toBe(16n);
    const text = fn!.section!;
    expect([...text.data.subarray(0, 16)]).toEqual(Array(16).fill(0x90));
    expect([...text.data.subarray(16, 20)]).toEqual([0xf3, 0x0f, 0x1e, 0xfa]); // endbr64
    // __patchable_function_entries must keep naming its text section (ld -r crashes on sh_link 0).
    const entries = findSection(elf, '__patchable_function_entries');
    expect(entries && (entries.flags & SHF_LINK_ORDER) !== 0).toBe(true);
    expect(entries?.link).toBe(text);
    // The entry still points at the padding's start: compute - 16.
    const entry = relocationsOf(elf, entries!)[0]!;
    expect(entry.symbol?.name === 'compute' ? entry.addend : undefined).toBe(-16n);
    // ftrace's call sits after the ENDBR: __mcount_loc points at compute + 4.
    const mcount = relocationsOf(elf, findSection(elf, '__mcount_loc')!)[0]!;
    expect([mcount.symbol?.name, mcount.addend]).toEqual(['compute', 4n]);
  });
});
