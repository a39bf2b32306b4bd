import { describe, expect, it } from 'vitest';
import {
  addRelocation,
  addSection,
  addSymbol,
  createElf,
  EM_X86_64,
  R_X86_64_PLT32,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHT_PROGBITS,
} from '../../src/elf/index.js';
import { checkObjtoolProcessed } from '../../src/module/check-objtool.js';

// endbr64; xor %eax,%eax; jmp __x86_return_thunk — a function as gcc emits it with -mfunction-return.
function module(options: { returnSites: boolean; thunk: string }) {
  const elf = createElf({ machine: EM_X86_64 });
  const text = addSection(elf, {
    name: '.text.fn',
    type: SHT_PROGBITS,
    flags: SHF_ALLOC | SHF_EXECINSTR,
    addralign: 16,
    data: Buffer.from([0xf3, 0x0f, 0x1e, 0xfa, 0x31, 0xc0, 0xe9, 0, 0, 0, 0]),
  });
  const thunk = addSymbol(elf, { name: options.thunk });
  addRelocation(elf, text, { offset: 7n, type: R_X86_64_PLT32, symbol: thunk, addend: -4n });
  if (options.returnSites) {
    addSection(elf, {
      name: '.return_sites',
      type: SHT_PROGBITS,
      flags: SHF_ALLOC,
      addralign: 1,
      data: Buffer.alloc(4),
    });
  }
  return elf;
}

describe('checkObjtoolProcessed', () => {
  it.each([
    ['return thunk and .return_sites', { returnSites: true, thunk: '__x86_return_thunk' }, false],
    ['no return thunk (a kernel without RETHUNK)', { returnSites: false, thunk: 'other_fn' }, false],
    [
      'return thunk without .return_sites (objtool gave up)',
      { returnSites: false, thunk: '__x86_return_thunk' },
      true,
    ],
  ])('%s', (_name, options, refused) => {
    const check = () => checkObjtoolProcessed('x.ko', module(options), '/tmp/module-build.log');
    if (refused) {
      expect(check).toThrow(
        /x\.ko: its code returns through __x86_return_thunk but it has no \.return_sites/,
      );
    } else {
      expect(check).not.toThrow();
    }
  });
});
