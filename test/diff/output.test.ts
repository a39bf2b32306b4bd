import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffObjects } from '../../src/diff/create-diff-object.js';
import { loadParentSymbols } from '../../src/diff/parent-symbols.js';
import type { StructSizes } from '../../src/diff/struct-sizes.js';
import type { ElfFile } from '../../src/elf/index.js';
import { findSection, parseElf, STB_LOCAL, serializeElf } from '../../src/elf/index.js';
import { compileFixturePair, readFixtureSpec } from './support/compile-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cdo-output-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function diffFixture(name: string, withSymbols = false) {
  const spec = await readFixtureSpec(name);
  const paths = await compileFixturePair(spec, dir);
  const parentSymbols = withSymbols ? await loadParentSymbols(paths.orig, spec.parent) : undefined;
  const result = diffObjects({
    origPath: paths.orig,
    orig: await readFile(paths.orig),
    patchedPath: paths.patched,
    patched: await readFile(paths.patched),
    parent: spec.parent,
    structSizes: spec.sizes as StructSizes,
    ...(parentSymbols ? { parentSymbols } : {}),
  });
  const bytes = serializeElf(result.output!);
  const file = join(dir, `${name}.out.o`);
  await import('node:fs/promises').then((fs) => fs.writeFile(file, bytes));
  return { ...result, elf: parseElf(bytes), file };
}

function defined(elf: ElfFile): string[] {
  return elf.symbols
    .filter((s) => s.section && s.name !== '' && s.type !== 4)
    .map((s) => s.name)
    .sort();
}

function undefinedNames(elf: ElfFile): string[] {
  return elf.symbols
    .filter((s) => !s.section && s.specialIndex === 0 && s.name !== '')
    .map((s) => s.name)
    .sort();
}

describe('the output object', () => {
  it.each([
    ['bug-table-filtered', '__bug_table', 12],
    ['ex-table-filtered', '__ex_table', 12],
    ['jump-label-vmlinux-key', '__jump_table', 16],
    ['alternatives-filtered', '.altinstructions', 12],
    ['simple-change', '__mcount_loc', 8],
    ['new-static-helper', '__mcount_loc', 16],
  ])('%s keeps only the %s entries of included functions (%i bytes)', async (name, section, size) => {
    const { elf } = await diffFixture(name);
    expect(findSection(elf, section)?.size).toBe(size);
  });

  it('copies the replacement code of kept alternatives', async () => {
    const { elf } = await diffFixture('alternatives-filtered');
    expect(findSection(elf, '.altinstr_replacement')).toBeDefined();
  });

  it('keeps only import_ns= lines of .modinfo', async () => {
    const { elf } = await diffFixture('modinfo-import-ns');
    expect(findSection(elf, '.modinfo')?.data.toString('latin1')).toBe('import_ns=CRYPTO_INTERNAL\0');
  });

  it('defines changed and new functions and leaves unchanged ones undefined', async () => {
    const { elf } = await diffFixture('new-static-helper');
    expect(defined(elf)).toEqual(['caller', 'helper']);
    expect(undefinedNames(elf)).toEqual(['__fentry__']);
  });

  it('names a changed clone as the running kernel does', async () => {
    const { elf, report } = await diffFixture('isra-clone-changed');
    expect(report.changedFunctions).toEqual(['sum_fields.isra.0']);
    expect(defined(elf)).toContain('sum_fields.isra.0');
  });

  it('copies the .cold piece with its changed parent', async () => {
    const { elf, report } = await diffFixture('cold-parent-changed');
    expect(report.childFunctions).toEqual(['process.cold']);
    expect(defined(elf)).toEqual(['process', 'process.cold']);
  });

  it('re-creates special statics instead of referencing the kernel copies', async () => {
    const { elf, report } = await diffFixture('special-static-warn-once');
    expect(report.newData.some((n) => n.startsWith('__already_done'))).toBe(true);
    expect(findSection(elf, '.data.once')).toBeDefined();
    expect(undefinedNames(elf).some((n) => n.startsWith('__already_done'))).toBe(false);
  });

  it('references unchanged data, locals included, and reports binding, export and sympos', async () => {
    const { elf, report } = await diffFixture('exported-symbol-use', true);
    expect(defined(elf)).toEqual(['user']);
    const byName = new Map(report.externalReferences.map((r) => [r.name, r]));
    expect(byName.get('local_helper')).toMatchObject({
      binding: 'local',
      type: 'func',
      sympos: 0,
      candidates: 1,
    });
    expect(byName.get('exported_helper')).toMatchObject({ binding: 'global', sympos: null, candidates: 0 });
    expect(elf.symbols.find((s) => s.name === 'local_helper')?.bind).not.toBe(STB_LOCAL);
  });

  it('is an object readelf accepts without warnings', async () => {
    const { file } = await diffFixture('special-static-lock-key');
    const { stdout, stderr } = await execa('readelf', ['-aW', file]);
    expect(stderr).toBe('');
    expect(stdout).toContain('.rela.text.setup_lock');
  });
});
