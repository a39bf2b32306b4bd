import type { ElfFile } from '../elf/index.js';
import { findSection } from '../elf/index.js';

/** One `key=value` entry of a kernel module's .modinfo section, in section order. */
export interface ModinfoEntry {
  key: string;
  value: string;
  /** Offset of the entry's first byte in .modinfo (for in-place edits). */
  offset: number;
  /** The whole `key=value` text. */
  text: string;
}

/** Reads .modinfo (NUL-separated `key=value` strings; padding NULs between them are skipped). */
export function readModinfo(elf: ElfFile): ModinfoEntry[] {
  const data = findSection(elf, '.modinfo')?.data;
  if (!data) return [];
  const entries: ModinfoEntry[] = [];
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(0, start);
    if (end < 0) end = data.length;
    const text = data.toString('latin1', start, end);
    const at = text.indexOf('=');
    if (at > 0) entries.push({ key: text.slice(0, at), value: text.slice(at + 1), offset: start, text });
    start = end + 1;
  }
  return entries;
}

/** The first value of `key`, e.g. modinfoValue(elf, 'vermagic'). */
export function modinfoValue(elf: ElfFile, key: string): string | undefined {
  return readModinfo(elf).find((entry) => entry.key === key)?.value;
}
