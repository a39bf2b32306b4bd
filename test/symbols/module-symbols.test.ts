import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelModuleName, readModuleSymbols } from '../../src/symbols/module-symbols.js';
import { buildTargetModule, makeTempDir, removeTempDir } from '../klp/support/build.js';

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('module-symbols');
});

afterAll(() => removeTempDir(dir));

describe('readModuleSymbols', () => {
  it('reads the name from .modinfo, the exports from __ksymtab_ symbols and defined symbols in table order', async () => {
    const module = await readModuleSymbols(await buildTargetModule(dir));
    expect(module.name).toBe('target_mod');
    expect([...module.exports]).toEqual(['mod_export']);
    expect(module.table.candidates('mod_static')).toEqual([
      { name: 'mod_static', address: 0n, type: 'd', file: 'target_mod.c' },
    ]);
    expect(module.table.candidates('mod_export')).toEqual([{ name: 'mod_export', address: 0n, type: 'T' }]);
  });

  it.each([
    ['nfsd', 'nfsd'],
    ['snd-hda-intel', 'snd_hda_intel'],
  ])('spells module %s as the kernel does: %s', (name, expected) => {
    expect(kernelModuleName(name)).toBe(expected);
  });
});

describe('compressed target modules', () => {
  it.each([
    ['xz', ['xz', '-k']],
    ['zst', ['zstd', '-q', '-k']],
    ['gz', ['gzip', '-k']],
  ])('reads a .ko.%s like the .ko', async (suffix, command) => {
    const ko = await buildTargetModule(dir);
    await execa(command[0]!, [...command.slice(1), '-f', ko]);
    const module = await readModuleSymbols(`${ko}.${suffix}`);
    expect(module.name).toBe('target_mod');
    expect([...module.exports]).toEqual(['mod_export']);
  });

  it('names the file it cannot read', async () => {
    await expect(readModuleSymbols(`${dir}/absent.ko`)).rejects.toThrow(
      /cannot read target module .*absent\.ko/,
    );
  });
});
