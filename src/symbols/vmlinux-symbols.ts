import type { ElfFile, ElfSymbol } from '../elf/index.js';
import {
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHN_ABS,
  SHT_NOBITS,
  STB_LOCAL,
  STB_WEAK,
  STT_FILE,
  STT_OBJECT,
  STT_SECTION,
} from '../elf/index.js';
import type { IndexEntry } from './symbol-index.js';
import { symbolsWithSourceFile } from './with-source-file.js';

/** The nm-style letter of an ELF symbol (t/T text, d/D data, b/B bss, r/R read-only, a/A absolute, w/W/v/V weak). */
export function nmType(symbol: ElfSymbol): string {
  if (symbol.bind === STB_WEAK) return symbol.type === STT_OBJECT ? 'V' : 'W';
  let letter: string;
  const section = symbol.section;
  if (!section) letter = symbol.specialIndex === SHN_ABS ? 'a' : 'u';
  else if (section.flags & SHF_EXECINSTR) letter = 't';
  else if (section.type === SHT_NOBITS) letter = 'b';
  else if (section.flags & SHF_WRITE) letter = 'd';
  else if (section.flags & SHF_ALLOC) letter = 'r';
  else letter = 'n';
  return symbol.bind === STB_LOCAL ? letter : letter.toUpperCase();
}

// What scripts/kallsyms and scripts/mksysmap leave out of kallsyms and System.map (Linux 6.1 and later).
const IGNORED_NAMES: ReadonlySet<string> = new Set([
  'kallsyms_addresses',
  'kallsyms_offsets',
  'kallsyms_relative_base',
  'kallsyms_num_syms',
  'kallsyms_names',
  'kallsyms_markers',
  'kallsyms_token_table',
  'kallsyms_token_index',
  'kallsyms_seqs_of_names',
  '_SDA_BASE_',
  '_SDA2_BASE_',
]);
const escapeRegExp = (text: string) => text.replace(/[$.]/g, '\\$&');
/** Prefixes, suffixes and infixes of tooling symbols, as one expression (checked for every symbol). */
const IGNORED = new RegExp(
  [
    `^(?:${[
      '$',
      '.L',
      '__crc_',
      '__kstrtab_',
      '__kstrtabns_',
      '__efistub_',
      '__kvm_nvhe_$',
      '__kvm_nvhe_.L',
      '__AArch64ADRPThunk_',
      '__ARMV5PILongThunk_',
      '__ARMV7PILongThunk_',
      '__ThumbV7PILongThunk_',
      '__LA25Thunk_',
      '__microLA25Thunk_',
      '__kcfi_typeid_',
    ]
      .map(escapeRegExp)
      .join('|')})`,
    `(?:${['_from_arm', '_from_thumb', '_veneer'].join('|')})$`,
    `(?:${['.long_branch.', '.plt_branch.'].map(escapeRegExp).join('|')})`,
  ].join('|'),
);
/** Absolute symbols kallsyms keeps; it drops every other one. */
const KEPT_ABSOLUTE: ReadonlySet<string> = new Set([
  '__kernel_syscall_via_break',
  '__kernel_syscall_via_epc',
  '__kernel_sigtramp',
  '__gp',
]);

/** Whether the kernel's kallsyms table has this vmlinux ELF symbol (so it counts for sympos). */
export function inKallsyms(symbol: ElfSymbol): boolean {
  const name = symbol.name;
  if (name === '' || symbol.type === STT_SECTION || symbol.type === STT_FILE) return false;
  if (!symbol.section) {
    if (symbol.specialIndex !== SHN_ABS || !KEPT_ABSOLUTE.has(name)) return false;
  }
  return !IGNORED_NAMES.has(name) && !IGNORED.test(name);
}

/**
 * A linked vmlinux's symbols in kallsyms order: the defined symbols kallsyms keeps (not section, file,
 * absolute or tooling symbols such as __crc_* and __kstrtab_*), sorted by address (stable, so same-address
 * symbols keep their symbol-table order), each local symbol with the source file of the STT_FILE entry it
 * follows.
 */
export function vmlinuxIndexEntries(elf: ElfFile): IndexEntry[] {
  const entries: IndexEntry[] = [];
  for (const { symbol, file } of symbolsWithSourceFile(elf)) {
    if (!inKallsyms(symbol)) continue;
    entries.push({ name: symbol.name, address: symbol.value, type: nmType(symbol), file });
  }
  const order = entries.map((_, i) => i);
  order.sort((a, b) => {
    const x = entries[a]!.address;
    const y = entries[b]!.address;
    return x < y ? -1 : x > y ? 1 : a - b;
  });
  return order.map((i) => entries[i]!);
}
