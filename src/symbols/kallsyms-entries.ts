import { SourceError } from '../errors.js';
import type { IndexEntry } from './symbol-index.js';

const HEX = /^[0-9a-fA-F]{1,16}$/;

/**
 * The vmlinux symbols of /proc/kallsyms or System.map text, in file order (which is the order the kernel
 * counts sympos in). Lines of loaded modules ("... [module]") are left out: they are not vmlinux's.
 * Same format as parseKallsyms, scanned without a regular expression per line because a kallsyms dump
 * has about 100k lines.
 */
export function kallsymsIndexEntries(text: string, file = 'kallsyms'): IndexEntry[] {
  const entries: IndexEntry[] = [];
  let lineNo = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const lineStart = start;
    start = end + 1;
    if (end > lineStart && text.charCodeAt(end - 1) === 13) end--;
    if (end === lineStart) continue;
    const space = text.indexOf(' ', lineStart);
    const typeAt = space + 1;
    const nameAt = space + 3;
    if (space < 0 || space >= end || nameAt >= end || text.charCodeAt(typeAt + 1) !== 32) {
      throw malformed(file, lineNo, text.slice(lineStart, end));
    }
    const hex = text.slice(lineStart, space);
    let nameEnd = nameAt;
    while (nameEnd < end) {
      const c = text.charCodeAt(nameEnd);
      if (c === 32 || c === 9) break;
      nameEnd++;
    }
    if (nameEnd < end) {
      // Only "[module]" may follow the name.
      const rest = text.slice(nameEnd, end).trim();
      if (/^\[\S+\]$/.test(rest)) continue;
      if (rest !== '') throw malformed(file, lineNo, text.slice(lineStart, end));
    }
    if (!HEX.test(hex) || text.charCodeAt(typeAt) === 32)
      throw malformed(file, lineNo, text.slice(lineStart, end));
    entries.push({ name: text.slice(nameAt, nameEnd), address: BigInt(`0x${hex}`), type: text[typeAt]! });
  }
  return entries;
}

function malformed(file: string, lineNo: number, line: string): SourceError {
  return new SourceError(
    `${file}:${lineNo}: not a kallsyms/System.map line: ${JSON.stringify(line.slice(0, 80))}`,
    {
      hint: 'expected "<hex address> <type> <name> [module]", as in /proc/kallsyms or System.map',
    },
  );
}
