/**
 * On kernels with return thunks (MITIGATION_RETHUNK), every `jmp __x86_return_thunk` of a module must be
 * listed in its `.return_sites` for the loader to patch it (apply_returns). objtool writes that table —
 * on IBT kernels only at module link time — and when it gives up on an object (it only warns, and the
 * build goes on) the module comes out without it, and without .call_sites and ORC. Such a module loads but
 * is not what the kernel expects: refuse it.
 */
import type { ElfFile } from '../elf/index.js';
import { findSection, SHF_EXECINSTR } from '../elf/index.js';
import { BuildError } from '../errors.js';

const RETURN_THUNK = '__x86_return_thunk';

/** True when code of the module jumps to the return thunk. */
export function usesReturnThunk(elf: ElfFile): boolean {
  return elf.sections.some(
    (s) =>
      typeof s.info !== 'number' &&
      (s.info.flags & SHF_EXECINSTR) !== 0 &&
      (s.relocations ?? []).some((r) => r.symbol?.name === RETURN_THUNK),
  );
}

export function checkObjtoolProcessed(ko: string, elf: ElfFile, buildLog?: string): void {
  if (!usesReturnThunk(elf) || findSection(elf, '.return_sites')) return;
  throw new BuildError(`${ko}: its code returns through ${RETURN_THUNK} but it has no .return_sites`, {
    hint:
      'objtool did not process the module (look for "objtool:" warnings in the module build log); ' +
      'the kernel would not patch its returns, call thunks or unwind tables',
    ...(buildLog ? { logPath: buildLog } : {}),
  });
}
