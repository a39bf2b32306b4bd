import { AARCH64_RELOCATIONS } from './aarch64.js';
import type { ArchRelocations, RelocationTypeInfo } from './types.js';
import { X86_64_RELOCATIONS } from './x86-64.js';

/** One table per e_machine; add ppc64le, s390x, ... here. */
const BY_MACHINE: ReadonlyMap<number, ArchRelocations> = new Map(
  [X86_64_RELOCATIONS, AARCH64_RELOCATIONS].map((arch) => [arch.machine, arch]),
);

/** The relocation table of an e_machine, or undefined when the machine is not known. */
export function archForMachine(machine: number): ArchRelocations | undefined {
  return BY_MACHINE.get(machine);
}

export function relocationTypeInfo(machine: number, type: number): RelocationTypeInfo | undefined {
  return BY_MACHINE.get(machine)?.byType.get(type);
}

/** The type's name, or a readable placeholder such as `R_UNKNOWN_62_99` for unknown ones. */
export function relocationTypeName(machine: number, type: number): string {
  return relocationTypeInfo(machine, type)?.name ?? `R_UNKNOWN_${machine}_${type}`;
}

/** The type number for a name such as `R_X86_64_PLT32`, or undefined. */
export function relocationTypeByName(machine: number, name: string): number | undefined {
  return BY_MACHINE.get(machine)?.byName.get(name)?.type;
}
