/** What a relocation type does at its site, as far as generic code needs to know. */
export interface RelocationTypeInfo {
  type: number;
  /** Name as in <elf.h> and readelf, e.g. R_X86_64_PC32. */
  name: string;
  /** Bytes patched at r_offset (0 for markers such as R_X86_64_NONE). */
  width: number;
  /** True when the value computed is relative to the place being patched. */
  pcRelative: boolean;
}

/** The relocation types of one e_machine. */
export interface ArchRelocations {
  machine: number;
  /** Short architecture name, e.g. x86_64. */
  name: string;
  byType: ReadonlyMap<number, RelocationTypeInfo>;
  byName: ReadonlyMap<string, RelocationTypeInfo>;
}

/** [name, type, width, pcRelative] rows, the compact form the per-arch files are written in. */
export type RelocationRow = readonly [name: string, type: number, width: number, pcRelative: boolean];

export function archRelocations(
  machine: number,
  name: string,
  rows: readonly RelocationRow[],
): ArchRelocations {
  const infos = rows.map(([typeName, type, width, pcRelative]) => ({
    type,
    name: typeName,
    width,
    pcRelative,
  }));
  return {
    machine,
    name,
    byType: new Map(infos.map((info) => [info.type, info])),
    byName: new Map(infos.map((info) => [info.name, info])),
  };
}
