import type { ElfFile, ElfSymbol } from '../elf/index.js';
import { STB_LOCAL, STT_FILE } from '../elf/index.js';

/**
 * The symbol table without its STT_FILE entries, each local symbol paired with the source file of the
 * STT_FILE entry it follows (locals come first in ELF, grouped by file); globals belong to no file.
 * This is how same-named statics of different files are told apart.
 */
export function* symbolsWithSourceFile(
  elf: ElfFile,
): Generator<{ symbol: ElfSymbol; file: string | undefined }> {
  let file: string | undefined;
  for (const symbol of elf.symbols) {
    if (symbol.type === STT_FILE) {
      file = symbol.name || undefined;
      continue;
    }
    yield { symbol, file: symbol.bind === STB_LOCAL ? file : undefined };
  }
}
