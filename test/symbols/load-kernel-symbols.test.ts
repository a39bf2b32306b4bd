import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKernelSymbols, SYMBOL_INDEX_DIR } from '../../src/symbols/load-kernel-symbols.js';
import { buildVmlinux, KALLSYMS, makeTempDir, removeTempDir, writeText } from '../klp/support/build.js';

let dir: string;
let vmlinux: string;

beforeAll(async () => {
  dir = await makeTempDir('symbols');
  vmlinux = await buildVmlinux(dir);
});

afterAll(() => removeTempDir(dir));

describe('loadKernelSymbols', () => {
  it('counts a vmlinux ELF in kallsyms order: by address, not symbol-table order, with source files', async () => {
    const symbols = await loadKernelSymbols({ path: vmlinux, cacheDir: false });
    expect(symbols.format).toBe('vmlinux');
    // vmlinux_a.c's variable comes first in .symtab but lies above vmlinux_b.c's function.
    const found = symbols.table.candidates('dup_static');
    expect(found.map((s) => [s.type, s.file])).toEqual([
      ['t', 'vmlinux_b.c'],
      ['d', 'vmlinux_a.c'],
    ]);
    expect(found[0]!.address! < found[1]!.address!).toBe(true);
    // Globals belong to no file; file and section symbols are not symbols here.
    expect(symbols.table.candidates('exported_fn')).toEqual([
      { name: 'exported_fn', address: expect.any(BigInt), type: 'T' },
    ]);
    expect(symbols.table.candidates('vmlinux_a.c')).toEqual([]);
  });

  it('agrees with a System.map made from the same vmlinux', async () => {
    const { stdout } = await execa('nm', ['-n', vmlinux]);
    const map = await writeText(dir, 'System.map', `${stdout}\n`);
    const fromMap = await loadKernelSymbols({ path: map, cacheDir: false });
    const fromElf = await loadKernelSymbols({ path: vmlinux, cacheDir: false });
    expect(fromMap.format).toBe('kallsyms');
    for (const name of ['dup_static', 'exported_fn', 'saved_command_line', 'b_user']) {
      expect(fromMap.table.candidates(name).map((s) => s.address)).toEqual(
        fromElf.table.candidates(name).map((s) => s.address),
      );
    }
  });

  it('caches the index by path, size and mtime, and rebuilds it when the file changes', async () => {
    const cacheDir = join(dir, 'cache');
    const path = await writeText(dir, 'kallsyms', KALLSYMS);
    const first = await loadKernelSymbols({ path, cacheDir });
    expect(first.cached).toBe(false);
    expect(first.cacheFile).toMatch(new RegExp(`^${cacheDir}/${SYMBOL_INDEX_DIR}/[0-9a-f]{32}\\.klpsyms$`));
    const second = await loadKernelSymbols({ path, cacheDir });
    expect(second.cached).toBe(true);
    expect(second.cacheFile).toBe(first.cacheFile);
    expect(second.table.candidates('dup_static')).toEqual(first.table.candidates('dup_static'));
    expect(second.table.candidates('dup_static')).toHaveLength(2);

    const later = new Date((await stat(path)).mtimeMs + 5000);
    await utimes(path, later, later);
    const third = await loadKernelSymbols({ path, cacheDir });
    expect(third.cached).toBe(false);
    expect(third.cacheFile).not.toBe(first.cacheFile);
  });

  it('rebuilds a damaged cache file', async () => {
    const cacheDir = join(dir, 'cache-damaged');
    const path = await writeText(dir, 'kallsyms-2', KALLSYMS);
    const first = await loadKernelSymbols({ path, cacheDir });
    await writeFile(first.cacheFile!, 'garbage');
    const again = await loadKernelSymbols({ path, cacheDir });
    expect(again.cached).toBe(false);
    expect((await readFile(again.cacheFile!)).subarray(0, 7).toString()).toBe('KLPSYMX');
  });

  it('writes nothing with cacheDir false', async () => {
    const cacheDir = join(dir, 'cache-none');
    const path = await writeText(dir, 'kallsyms-3', KALLSYMS);
    const loaded = await loadKernelSymbols({ path, cacheDir: false });
    expect(loaded.cacheFile).toBeUndefined();
    await expect(readdir(cacheDir)).rejects.toThrow();
  });

  it('refuses a stripped vmlinux', async () => {
    const stripped = join(dir, 'vmlinux.stripped');
    await execa('strip', ['-o', stripped, vmlinux]);
    await expect(loadKernelSymbols({ path: stripped, cacheDir: false })).rejects.toThrow(
      /vmlinux\.stripped: vmlinux has no symbol table \(stripped\?\)/,
    );
  });

  it('refuses a missing file, naming it', async () => {
    await expect(loadKernelSymbols({ path: join(dir, 'nope'), cacheDir: false })).rejects.toThrow(
      /cannot read kernel symbols .*nope/,
    );
  });
});
