/** Pass: every site a converted symbol is used at must be one the livepatch loader can write. */
import type { ElfFile, ElfSection, ElfSymbol } from '../elf/index.js';
import {
  R_X86_64_32,
  R_X86_64_32S,
  R_X86_64_64,
  R_X86_64_NONE,
  R_X86_64_PC32,
  R_X86_64_PC64,
  R_X86_64_PLT32,
  relocationTypeName,
  SHT_NOBITS,
  SHT_RELA,
} from '../elf/index.js';
import { moduleSpecificSite, noDataSite, relSite, unappliedType } from './convert-messages.js';
import type { Plan, SymbolUses } from './convert-types.js';
import { VMLINUX } from './klp-names.js';

/** Relocation types x86-64's apply_relocate_add() can write. */
const KERNEL_RELOCATION_TYPES: ReadonlySet<number> = new Set([
  R_X86_64_NONE,
  R_X86_64_64,
  R_X86_64_32,
  R_X86_64_32S,
  R_X86_64_PC32,
  R_X86_64_PLT32,
  R_X86_64_PC64,
]);

/**
 * Sections a module-specific livepatch relocation must not patch: module-specific relocations are written
 * only when the target module is there, after the livepatch module's init code is gone and after the
 * loader has processed its jump labels, static calls and alternatives.
 */
function moduleSpecificProblem(target: ElfSection): string | undefined {
  if (target.name.startsWith('.init')) return 'init code and data are freed before it could be written';
  const special = [
    '__jump_table',
    '.static_call_sites',
    '.altinstructions',
    '.altinstr_replacement',
    '.parainstructions',
    '.smp_locks',
    '__ex_table',
  ];
  if (special.includes(target.name)) return 'the module loader reads that section before it could be written';
  return undefined;
}

/** Problems with the sites of the planned conversions, found before anything changes. */
export function checkRelocationSites(
  elf: ElfFile,
  plans: readonly Plan[],
  uses: ReadonlyMap<ElfSymbol, SymbolUses>,
): string[] {
  const problems: string[] = [];
  for (const plan of plans) {
    for (const use of uses.get(plan.symbol)?.alloc ?? []) {
      const at = `${use.target.name}+0x${use.relocation.offset.toString(16)}`;
      if (use.relocationSection.type !== SHT_RELA) {
        problems.push(relSite(plan.name, at));
      } else if (!KERNEL_RELOCATION_TYPES.has(use.relocation.type)) {
        problems.push(
          unappliedType(plan.name, at, relocationTypeName(elf.header.machine, use.relocation.type)),
        );
      } else if (use.target.type === SHT_NOBITS) {
        problems.push(noDataSite(plan.name, at));
      } else if (plan.object !== VMLINUX) {
        const why = moduleSpecificProblem(use.target);
        if (why) problems.push(moduleSpecificSite(plan.name, plan.object, use.target.name, why));
      }
    }
  }
  return problems;
}
