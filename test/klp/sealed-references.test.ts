import { describe, expect, it } from 'vitest';
import {
  addRelocation,
  addSection,
  addSymbol,
  createElf,
  EM_X86_64,
  R_X86_64_32S,
  R_X86_64_PLT32,
  renameSection,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHT_PROGBITS,
} from '../../src/elf/index.js';
import { refuseSealedReferences, sealedReferences } from '../../src/klp/sealed-references.js';
import { parseSealedFunctions } from '../../src/verify/dump-sealed-functions.js';

// endbr64; call sealed_a; mov $sealed_b,%rsi; jmp sealed_c; mov $open_fn,%rsi
const CODE = Buffer.from([
  0xf3, 0x0f, 0x1e, 0xfa, 0xe8, 0, 0, 0, 0, 0x48, 0xc7, 0xc6, 0, 0, 0, 0, 0xe9, 0, 0, 0, 0, 0x48, 0xc7, 0xc6,
  0, 0, 0, 0,
]);

function module() {
  const elf = createElf({ machine: EM_X86_64 });
  const text = addSection(elf, {
    name: '.text.new_fn',
    type: SHT_PROGBITS,
    flags: SHF_ALLOC | SHF_EXECINSTR,
    addralign: 16,
    data: CODE,
  });
  const sym = (name: string) => addSymbol(elf, { name: `.klp.sym.vmlinux.${name},0`, specialIndex: 0xff20 });
  addRelocation(elf, text, { offset: 5n, type: R_X86_64_PLT32, symbol: sym('sealed_a'), addend: -4n });
  addRelocation(elf, text, { offset: 12n, type: R_X86_64_32S, symbol: sym('sealed_b'), addend: 0n });
  addRelocation(elf, text, { offset: 17n, type: R_X86_64_PLT32, symbol: sym('sealed_c'), addend: -4n });
  addRelocation(elf, text, { offset: 24n, type: R_X86_64_32S, symbol: sym('open_fn'), addend: 0n });
  const rela = elf.sections.find((s) => s.name === '.rela.text.new_fn')!;
  renameSection(elf, rela, '.klp.rela.vmlinux..text.new_fn');
  return elf;
}

describe('sealed function references (IBT)', () => {
  const sealed = new Set(['sealed_a', 'sealed_b', 'sealed_c']);

  it('finds an address taken of a sealed function, not direct calls or jumps, not unsealed ones', () => {
    expect(sealedReferences(module(), sealed)).toEqual([
      { function: 'sealed_b', section: '.text.new_fn', offset: 12n },
    ]);
  });

  it('refuses such a module naming the function and the place, with a hint', () => {
    expect(() => refuseSealedReferences('x.ko', module(), sealed)).toThrow(
      /x\.ko: .*sealed at boot \(IBT\): sealed_b \(\.text\.new_fn\+0xc\)/,
    );
    expect(() => refuseSealedReferences('x.ko', module(), new Set(['open_other']))).not.toThrow();
  });

  it("reads the kernel's ENDBR sealing log (debug-alternative=0x08)", () => {
    const log = [
      '[    0.337246] SMP alternatives: ENDBR at: do_one_initcall+0x0/0x310 (ffffffff81002a30)',
      '[    0.338688] SMP alternatives: ENDBR at: calibrate_delay+0x0/0x540 (ffffffff81002e10)',
      '[    0.338700] something else',
    ].join('\n');
    expect(parseSealedFunctions(log)).toEqual([
      { name: 'do_one_initcall', address: 0xffffffff81002a30n },
      { name: 'calibrate_delay', address: 0xffffffff81002e10n },
    ]);
  });
});
