import { describe, expect, it } from 'vitest';
import type { ElfSymbol } from '../../src/elf/index.js';
import { STB_GLOBAL, STB_WEAK } from '../../src/elf/index.js';
import type { ConvertContext } from '../../src/klp/convert-types.js';
import type { SymposDeclaration } from '../../src/klp/module-relocs.js';
import { resolveSymbol, symbolLookup } from '../../src/klp/resolve-symbol.js';
import type { ModuleSymbols } from '../../src/symbols/module-symbols.js';
import { parseModuleSymvers } from '../../src/symbols/parse-module-symvers.js';
import { ObjectSymbols } from '../../src/symbols/resolve-sympos.js';

// The rules of resolveSymbol, one row each, on symbol tables written out here (no ELF file needed).
const vmlinux = new ObjectSymbols('vmlinux', [
  { name: 'dup_static', address: 0xffffffff81000100n, type: 't', file: 'kernel/one.c' },
  { name: 'printk', address: 0xffffffff81000200n, type: 'T' },
  { name: 'dup_static', address: 0xffffffff81000300n, type: 't', file: 'kernel/two.c' },
  { name: 'only_here', address: 0xffffffff81000400n, type: 't' },
  { name: 'in_both', address: 0xffffffff81000500n, type: 't' },
]);
const module: ModuleSymbols = {
  name: 'dummy',
  path: '/lib/modules/x/dummy.ko',
  table: new ObjectSymbols('dummy', [
    { name: 'dummy_export', type: 'T' },
    { name: 'in_both', type: 't' },
  ]),
  exports: new Set(['dummy_export', 'dummy_gone']),
};
const SYMVERS = [
  '0x00000001\tprintk\tvmlinux\tEXPORT_SYMBOL\t',
  '0x00000002\tdummy_export\tdrivers/net/dummy\tEXPORT_SYMBOL\t',
  '0x00000003\tdummy_gone\tdrivers/net/dummy\tEXPORT_SYMBOL\t',
  '0x00000000\tonly_here\tvmlinux\tEXPORT_SYMBOL_GPL\tmodule:kvm,kvm-intel',
  '',
].join('\n');

const symbol = (name: string, bind = STB_GLOBAL) => ({ name, bind }) as ElfSymbol;
const declare = (name: string, object: string, sympos: number) =>
  ({ symbol: symbol(name), object, sympos, where: '.klp.module_relocs.x[0]' }) as SymposDeclaration;
const full: ConvertContext = {
  vmlinux,
  exports: parseModuleSymvers(SYMVERS),
  modules: new Map([['dummy', module]]),
};

describe('resolveSymbol', () => {
  it.each<[string, ConvertContext, string, SymposDeclaration | undefined, unknown]>([
    ['exported by vmlinux: kept', full, 'printk', undefined, { kind: 'export' }],
    [
      'exported by a module: converted at 0',
      full,
      'dummy_export',
      undefined,
      { kind: 'convert', object: 'dummy', sympos: 0, reason: 'module-export', candidates: 1 },
    ],
    [
      // EXPORT_SYMBOL_FOR_MODULES (7.x): exported to kvm only, so to the livepatch it is not exported.
      'exported by vmlinux for named modules only: converted like a local symbol',
      full,
      'only_here',
      undefined,
      { kind: 'convert', object: 'vmlinux', sympos: 0, reason: 'unique', candidates: 1 },
    ],
    [
      'declared, checked against the table',
      full,
      'dup_static',
      declare('dup_static', 'vmlinux', 2),
      { kind: 'convert', object: 'vmlinux', sympos: 2, reason: 'declared', candidates: 2 },
    ],
    [
      'declared for a module export whose module was not given',
      { vmlinux, exports: parseModuleSymvers(SYMVERS) },
      'dummy_export',
      declare('dummy_export', 'dummy', 0),
      { kind: 'convert', object: 'dummy', sympos: 0, reason: 'declared', candidates: undefined },
    ],
    [
      'found nowhere, --allow-unresolved',
      { ...full, allowUnresolved: true },
      'nowhere',
      undefined,
      { kind: 'unresolved' },
    ],
  ])('%s', (_, context, name, declaration, decision) => {
    expect(resolveSymbol(symbolLookup(context), symbol(name), declaration, undefined)).toEqual(decision);
  });

  it('leaves a weak reference found nowhere unresolved', () => {
    expect(resolveSymbol(symbolLookup(full), symbol('nowhere', STB_WEAK), undefined, undefined)).toEqual({
      kind: 'unresolved',
    });
  });

  it.each<[string, ConvertContext, string, SymposDeclaration | undefined, RegExp]>([
    [
      'ambiguous by name',
      full,
      'dup_static',
      undefined,
      /^symbol dup_static \(not used outside its KLP_SYMPOS entry\) is ambiguous: vmlinux has 2 symbols of that name.*\n {6}KLP_SYMPOS\(dup_static, 1\) {2}ffffffff81000100 t {2}kernel\/one\.c\n/,
    ],
    [
      'in two objects',
      full,
      'in_both',
      undefined,
      /exists in more than one object.*\n {6}KLP_MODULE_RELOC\(vmlinux\): 1 symbol named in_both\n {6}KLP_MODULE_RELOC\(dummy\): 1 symbol named in_both$/,
    ],
    [
      'not found',
      full,
      'nowhere',
      undefined,
      /is not exported \(Module\.symvers\) and not found in vmlinux, module dummy$/,
    ],
    [
      'an export missing from the given module',
      full,
      'dummy_gone',
      undefined,
      /Module\.symvers says module dummy exports it, but \/lib\/modules\/x\/dummy\.ko has no such symbol/,
    ],
    [
      'a declared position past the last',
      full,
      'dup_static',
      declare('dup_static', 'vmlinux', 3),
      /^KLP_SYMPOS\(dup_static, 3\) in \.klp\.module_relocs\.x\[0\]: vmlinux has only 2 symbols named dup_static:/,
    ],
    [
      'a declared position 0 that is not unique',
      full,
      'dup_static',
      declare('dup_static', 'vmlinux', 0),
      /position 0 needs a unique name, but vmlinux has 2 symbols named dup_static; use one of:/,
    ],
    [
      'a declaration for a module not given',
      { vmlinux },
      'x',
      declare('x', 'other', 1),
      /cannot check the position: module other was not given \(--target-module <path>\/other\.ko\)$/,
    ],
  ])('a problem: %s', (_, context, name, declaration, text) => {
    const decision = resolveSymbol(symbolLookup(context), symbol(name), declaration, undefined);
    expect(decision.kind).toBe('problem');
    expect(decision.kind === 'problem' && decision.text).toMatch(text);
  });
});
