/**
 * IBT sealing: at boot the kernel clears the ENDBR of every vmlinux function whose address vmlinux never
 * takes (objtool's .ibt_endbr_seal). New livepatch code that takes such a function's address could call
 * it indirectly, which faults (#CP) on IBT hardware — so such a module is refused. Direct calls and jumps
 * need no ENDBR and are fine. Exported functions are never sealed (their ksymtab entry takes the
 * address), so only the livepatch relocations to non-exported vmlinux symbols can be affected.
 */
import type { ElfFile, ElfSection, Relocation } from '../elf/index.js';
import { R_X86_64_PC32, R_X86_64_PLT32 } from '../elf/index.js';
import { UnsupportedChangeError } from '../errors.js';
import { KLP_RELA_PREFIX, klpRelaObject, parseKlpSymbolName, VMLINUX } from './klp-names.js';

export interface SealedReference {
  /** The sealed vmlinux function. */
  function: string;
  /** Where the module takes its address: section and offset. */
  section: string;
  offset: bigint;
}

const CALL = 0xe8;
const JMP = 0xe9;

/** A PC-relative relocation right after a call/jmp opcode is a direct branch, not an address taken. */
function isDirectBranch(target: ElfSection, relocation: Relocation): boolean {
  if (relocation.type !== R_X86_64_PLT32 && relocation.type !== R_X86_64_PC32) return false;
  const at = Number(relocation.offset);
  const opcode = at > 0 ? target.data[at - 1] : undefined;
  const jcc = at > 1 && target.data[at - 2] === 0x0f && ((target.data[at - 1] ?? 0) & 0xf0) === 0x80;
  return opcode === CALL || opcode === JMP || jcc;
}

/** The places where the module takes the address of a function in `sealed` (names of sealed vmlinux functions). */
export function sealedReferences(ko: ElfFile, sealed: ReadonlySet<string>): SealedReference[] {
  const found: SealedReference[] = [];
  for (const section of ko.sections) {
    if (!section.name.startsWith(KLP_RELA_PREFIX) || klpRelaObject(section.name) !== VMLINUX) continue;
    const target = section.info;
    if (typeof target === 'number') continue;
    for (const relocation of section.relocations ?? []) {
      const klp = relocation.symbol ? parseKlpSymbolName(relocation.symbol.name) : undefined;
      if (!klp || !sealed.has(klp.name) || isDirectBranch(target, relocation)) continue;
      found.push({ function: klp.name, section: target.name, offset: relocation.offset });
    }
  }
  return found;
}

/** Throws UnsupportedChangeError naming each sealed function whose address the module takes. */
export function refuseSealedReferences(koPath: string, ko: ElfFile, sealed: ReadonlySet<string>): void {
  const refs = sealedReferences(ko, sealed);
  if (refs.length === 0) return;
  const list = refs.map((r) => `${r.function} (${r.section}+0x${r.offset.toString(16)})`).join(', ');
  throw new UnsupportedChangeError(
    `${koPath}: the new code takes the address of vmlinux functions the kernel sealed at boot (IBT): ${list}`,
    {
      hint:
        'a sealed function has no ENDBR, so an indirect call into it faults (#CP) on IBT hardware; call it ' +
        'directly, or add a wrapper function in the patch and take the address of that instead',
    },
  );
}
