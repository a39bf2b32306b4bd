import { SourceError } from '../errors.js';

/** One line of /proc/kallsyms or System.map. */
export interface KernelSymbol {
  name: string;
  address: bigint;
  /** nm-style type letter: T/t text, D/d data, B/b bss, R/r rodata, W/w weak, A absolute... */
  type: string;
  /** Set for symbols of loaded modules ("[module]" in kallsyms). */
  module?: string;
}

const LINE = /^([0-9a-fA-F]+) (\S) (\S+)(?:\s+\[(\S+)\])?$/;

/**
 * Parses kallsyms or System.map text, keeping file order (which is the order the kernel counts
 * sympos in for vmlinux). A malformed line is an error naming the file and line.
 */
export function parseKallsyms(text: string, file = 'kallsyms'): KernelSymbol[] {
  const symbols: KernelSymbol[] = [];
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (line === '') continue;
    const m = LINE.exec(line);
    if (!m) {
      throw new SourceError(
        `${file}:${lineNo}: not a kallsyms/System.map line: ${JSON.stringify(line.slice(0, 80))}`,
        {
          hint: 'expected "<hex address> <type> <name> [module]"',
        },
      );
    }
    const symbol: KernelSymbol = { name: m[3]!, address: BigInt(`0x${m[1]}`), type: m[2]! };
    if (m[4]) symbol.module = m[4];
    symbols.push(symbol);
  }
  return symbols;
}
