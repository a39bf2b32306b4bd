import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSection, SHF_LINK_ORDER } from '../../src/elf/index.js';
import { diffFixtureOutput, relocationsOf } from './support/diff-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cdo-padding-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Objects as 6.2+ kernels build them with CALL_PADDING and IBT (gcc -fpatchable-function-entry=16,16
// -fcf-protection=branch), compiled by the real gcc at test time.
describe('functions behind 16 bytes of padding', () => {
  it.each(['padding-endbr-changed', 'padding-pfx-symbols'])(
    '%s: the function keeps its padding, its ftrace site and its patchable entry',
    async (name) => {
      const { elf, file, report } = await diffFixtureOutput(name, dir);
      expect(report.changedFunctions).toEqual(['compute']);
      const text = findSection(elf, '.text.compute')!;
      const compute = elf.symbols.find((s) => s.name === 'compute')!;
      expect([compute.section, compute.value]).toEqual([text, 16n]);
      // NOP padding, then ENDBR64.
      expect(text.data.subarray(0, 16)).toEqual(Buffer.alloc(16, 0x90));
      expect(text.data.subarray(16, 20)).toEqual(Buffer.from([0xf3, 0x0f, 0x1e, 0xfa]));
      const pfx = elf.symbols.filter((s) => s.name.startsWith('__pfx_'));
      expect(pfx.map((s) => [s.name, s.value])).toEqual(
        name === 'padding-pfx-symbols' ? [['__pfx_compute', 0n]] : [],
      );
      // One __mcount_loc entry (the call after ENDBR64), one patchable entry (the padding), both for compute.
      expect(relocationsOf(elf, '__mcount_loc').map((r) => [r.symbol?.name, r.addend])).toEqual([
        ['compute', 4n],
      ]);
      expect(
        relocationsOf(elf, '__patchable_function_entries').map((r) => [r.symbol?.name, r.addend]),
      ).toEqual([['compute', -16n]]);
      const entries = findSection(elf, '__patchable_function_entries')!;
      expect(entries.flags & SHF_LINK_ORDER).toBe(SHF_LINK_ORDER);
      expect(entries.link).toBe(text);
      // The linker accepts it (SHF_LINK_ORDER names a section of the output).
      const linked = await execa('ld', ['-r', '-o', join(dir, `${name}.ld.o`), file], { reject: false });
      expect(linked.stderr).toBe('');
      expect(linked.exitCode).toBe(0);
    },
  );

  it("keeps only the copied function's .return_sites and .ibt_endbr_seal entries", async () => {
    const { elf } = await diffFixtureOutput('ibt-site-lists-filtered', dir);
    expect(relocationsOf(elf, '.return_sites').map((r) => [r.symbol?.name, r.addend])).toEqual([
      ['compute', 8n],
    ]);
    expect(relocationsOf(elf, '.ibt_endbr_seal').map((r) => [r.symbol?.name, r.addend])).toEqual([
      ['compute', 0n],
    ]);
  });
});
