import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ElfFile } from '../../src/elf/index.js';
import { findSection, findSymbol, parseElf, R_X86_64_GOTPCREL, serializeElf } from '../../src/elf/index.js';
import type { ConvertContext } from '../../src/klp/index.js';
import { convertElf, SHN_LIVEPATCH } from '../../src/klp/index.js';
import type { ModuleSymbols } from '../../src/symbols/module-symbols.js';
import { readModuleSymbols } from '../../src/symbols/module-symbols.js';
import { parseModuleSymvers } from '../../src/symbols/parse-module-symvers.js';
import { ObjectSymbols } from '../../src/symbols/resolve-sympos.js';
import { buildLivepatch, buildTargetModule, makeTempDir, removeTempDir, SYMVERS } from './support/build.js';

// convertElf on parsed modules, edited in memory where gcc cannot produce the case.
let dir: string;
let targetModule: ModuleSymbols;
const vmlinux = new ObjectSymbols('vmlinux', [
  { name: 'dup_static', address: 0xffffffff81000100n, type: 't', file: 'kernel/one.c' },
  { name: 'exported_fn', address: 0xffffffff81000200n, type: 'T' },
  { name: 'dup_static', address: 0xffffffff81000300n, type: 't', file: 'kernel/two.c' },
  { name: 'saved_command_line', address: 0xffffffff83000000n, type: 'B' },
  { name: 'saved,command_line', address: 0xffffffff83000010n, type: 'b' },
]);

beforeAll(async () => {
  dir = await makeTempDir('convert-elf');
  targetModule = await readModuleSymbols(await buildTargetModule(dir));
});

afterAll(() => removeTempDir(dir));

function context(extra: Partial<ConvertContext> = {}): ConvertContext {
  return {
    vmlinux,
    exports: parseModuleSymvers(SYMVERS),
    modules: new Map([[targetModule.name, targetModule]]),
    ...extra,
  };
}

async function load(name: string, defines: string[] = []): Promise<ElfFile> {
  const path = await buildLivepatch(dir, name, defines);
  return parseElf(await readFile(path), { file: path });
}

describe('convertElf', () => {
  it('lists candidates with the source file the symbol table names', async () => {
    const elf = await load('files', ['DUP_POS=-1']);
    expect(() => convertElf(elf, context())).toThrow(
      /KLP_SYMPOS\(dup_static, 1\) {2}ffffffff81000100 t {2}kernel\/one\.c\n {6}KLP_SYMPOS\(dup_static, 2\) {2}ffffffff81000300 t {2}kernel\/two\.c/,
    );
  });

  it('reads several KLP_MODULE_RELOC arrays of one object, padding between them', async () => {
    const elf = await load('two-arrays', ['EXTRA_DECL']);
    const report = convertElf(elf, context());
    expect(
      report.converted
        .filter((c) => c.reason === 'declared')
        .map((c) => c.name)
        .sort(),
    ).toEqual(['dup_static', 'mod_static', 'saved_command_line']);
  });

  it('refuses a symbol name with a comma, which would end the name for the kernel', async () => {
    const elf = await load('comma');
    findSymbol(elf, 'saved_command_line')!.name = 'saved,command_line';
    expect(() => convertElf(elf, context())).toThrow(
      /cannot write a livepatch symbol for saved,command_line: symbol name "saved,command_line" contains ','/,
    );
  });

  it('refuses a relocation type the kernel does not apply, naming the site', async () => {
    const elf = await load('gotpcrel');
    const rela = findSection(elf, '.rela.text.klp_patched_fn')!;
    const site = rela.relocations!.find((r) => r.symbol?.name === 'saved_command_line')!;
    site.type = R_X86_64_GOTPCREL;
    expect(() => convertElf(elf, context())).toThrow(
      /saved_command_line at \.text\.klp_patched_fn\+0x3e: relocation type R_X86_64_GOTPCREL is not one the kernel's module loader applies/,
    );
  });

  it('changes nothing in the ELF model when it refuses', async () => {
    const elf = await load('untouched', ['MISSING']);
    const before = serializeElf(elf);
    expect(() => convertElf(elf, context())).toThrow(/missing_symbol/);
    expect(serializeElf(elf)).toEqual(before);
  });

  it('reuses livepatch symbols and sections already in the module', async () => {
    const elf = await load('reuse');
    convertElf(elf, context());
    const once = parseElf(serializeElf(elf), { file: 'once.ko' });
    // Give the converted module a fresh plain reference to a symbol it already has a .klp.sym for.
    const klp = findSymbol(once, '.klp.sym.vmlinux.saved_command_line,0')!;
    expect(klp.specialIndex).toBe(SHN_LIVEPATCH);
    const fresh = { ...klp, name: 'saved_command_line', specialIndex: 0, nameOffset: -1 };
    once.symbols.push(fresh);
    const rela = findSection(once, '.rela.text.klp_patched_fn')!;
    rela.relocations!.push({ offset: 0x12n, type: 2, symbol: fresh, addend: -4n });
    rela.relocations = rela.relocations!.filter((r) => r.symbol?.name !== 'exported_fn');
    const report = convertElf(once, context());
    expect(report.converted.map((c) => c.klpSymbol)).toEqual(['.klp.sym.vmlinux.saved_command_line,0']);
    expect(once.symbols.filter((s) => s.name.endsWith('saved_command_line,0'))).toHaveLength(1);
    expect(once.symbols.some((s) => s.name === 'saved_command_line')).toBe(false);
    const section = findSection(once, '.klp.rela.vmlinux..text.klp_patched_fn')!;
    expect(section.relocations!.map((r) => r.offset)).toEqual([0x9n, 0x3en, 0x12n]);
    expect(once.sections.filter((s) => s.name === section.name)).toHaveLength(1);
  });

  it('converts a declared symbol the code never uses by removing it', async () => {
    const elf = await load('unused-decl');
    // Drop the code's use of dup_static: only its KLP_SYMPOS entry names it.
    const rela = findSection(elf, '.rela.text.klp_patched_fn')!;
    rela.relocations = rela.relocations!.filter((r) => r.symbol?.name !== 'dup_static');
    const report = convertElf(elf, context());
    expect(report.converted.find((c) => c.name === 'dup_static')).toMatchObject({
      relocations: 0,
      sympos: 2,
    });
    expect(elf.symbols.some((s) => s.name.includes('dup_static'))).toBe(false);
  });

  it('accepts a module export declared for its module without the module at hand', async () => {
    const elf = await load('no-target', ['NO_MOD_DECL']);
    // mod_static would need target_mod.ko; leave just the export in use.
    const rela = findSection(elf, '.rela.text.klp_patched_fn')!;
    rela.relocations = rela.relocations!.filter((r) => r.symbol?.name !== 'mod_static');
    const data = findSection(elf, '.rela.data.klp_table')!;
    data.relocations = data.relocations!.filter((r) => r.symbol?.name !== 'mod_static');
    const report = convertElf(elf, context({ modules: new Map() }));
    expect(report.converted.find((c) => c.name === 'mod_export')).toMatchObject({
      object: 'target_mod',
      sympos: 0,
      reason: 'module-export',
      candidates: undefined,
    });
  });
});
