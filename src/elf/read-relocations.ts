import { relocationTypeInfo } from './arch/index.js';
import { formatError } from './byte-source.js';
import { ELF64_REL_SIZE, ELF64_RELA_SIZE, SHT_NOBITS, SHT_RELA } from './constants.js';
import type { ElfSection } from './section.js';
import type { ElfSymbol, Relocation } from './types.js';

export interface RelocationInput {
  file: string | undefined;
  section: ElfSection;
  /** sh_offset of the relocation section, for error messages. */
  fileOffset: number;
  /** The symbol table as read (without the null symbol), to map indices to symbols. */
  symbols: readonly ElfSymbol[];
  /** e_machine, to know how many bytes each relocation type patches. */
  machine: number;
  /** Check that every r_offset lies inside the target section (true for relocatable objects). */
  checkOffsets: boolean;
}

/** Decodes a SHT_RELA or SHT_REL section into entries that reference symbol objects. */
export function readRelocations(input: RelocationInput): Relocation[] {
  const { file, section, fileOffset, symbols, machine, checkOffsets } = input;
  const data = section.data;
  const withAddend = section.type === SHT_RELA;
  const entrySize = withAddend ? ELF64_RELA_SIZE : ELF64_REL_SIZE;
  const count = data.length / entrySize;
  const target = typeof section.info === 'number' ? undefined : section.info;
  const targetSize = target && target.type !== SHT_NOBITS ? BigInt(target.size) : undefined;
  const relocations: Relocation[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const p = i * entrySize;
    const type = data.readUInt32LE(p + 8);
    const symbolIndex = data.readUInt32LE(p + 12);
    if (symbolIndex > symbols.length) {
      throw formatError(
        file,
        `relocation ${i} of ${section.name} refers to symbol index ${symbolIndex}, but the symbol table has ${symbols.length + 1} entries`,
        fileOffset + p + 12,
      );
    }
    const offset = data.readBigUInt64LE(p);
    if (checkOffsets && targetSize !== undefined) {
      const width = BigInt(relocationTypeInfo(machine, type)?.width ?? 0);
      if (offset + width > targetSize) {
        throw formatError(
          file,
          `relocation ${i} of ${section.name} at offset 0x${offset.toString(16)} is outside its target section ${target?.name} (size 0x${targetSize.toString(16)})`,
          fileOffset + p,
        );
      }
    }
    relocations[i] = {
      offset,
      type,
      symbol: symbolIndex === 0 ? undefined : symbols[symbolIndex - 1],
      addend: withAddend ? data.readBigInt64LE(p + 16) : 0n,
    };
  }
  return relocations;
}
