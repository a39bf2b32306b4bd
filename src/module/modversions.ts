import type { ElfFile } from '../elf/index.js';
import { findSection } from '../elf/index.js';

/** struct modversion_info { unsigned long crc; char name[MODULE_NAME_LEN]; } on 64-bit. */
export const MODVERSION_ENTRY_SIZE = 64;

export interface ModversionEntry {
  name: string;
  crc: number;
  /** The entry's 64 bytes. */
  bytes: Buffer;
}

/** The entries of `__versions` (modpost's CRCs of the symbols the module imports), in order. */
export function readModversions(elf: ElfFile): ModversionEntry[] {
  const data = findSection(elf, '__versions')?.data;
  const entries: ModversionEntry[] = [];
  if (!data) return entries;
  for (let at = 0; at + MODVERSION_ENTRY_SIZE <= data.length; at += MODVERSION_ENTRY_SIZE) {
    const bytes = data.subarray(at, at + MODVERSION_ENTRY_SIZE);
    const nameEnd = bytes.indexOf(0, 8);
    entries.push({
      name: bytes.toString('latin1', 8, nameEnd < 0 ? MODVERSION_ENTRY_SIZE : nameEnd),
      crc: Number(bytes.readBigUInt64LE(0) & 0xffffffffn),
      bytes,
    });
  }
  return entries;
}
