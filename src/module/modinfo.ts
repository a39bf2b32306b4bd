import type { ElfFile } from '../elf/index.js';
import { findSection, splitStrings } from '../elf/index.js';

/** One `key=value` entry of a kernel module's .modinfo section, in section order. */
export interface ModinfoEntry {
  key: string;
  value: string;
}

/** Reads .modinfo (NUL-separated `key=value` strings; padding NULs between them are skipped). */
export function readModinfo(elf: ElfFile): ModinfoEntry[] {
  const section = findSection(elf, '.modinfo');
  if (!section?.data) return [];
  return splitStrings(section.data)
    .filter((text) => text.includes('='))
    .map((text) => {
      const at = text.indexOf('=');
      return { key: text.slice(0, at), value: text.slice(at + 1) };
    });
}

/** The first value of `key`, e.g. modinfoValue(elf, 'vermagic'). */
export function modinfoValue(elf: ElfFile, key: string): string | undefined {
  return readModinfo(elf).find((entry) => entry.key === key)?.value;
}
