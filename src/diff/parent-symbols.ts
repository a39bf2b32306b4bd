import { readFile } from 'node:fs/promises';
import type { ElfFile } from '../elf/index.js';
import { ET_EXEC, readElfFile, SHN_UNDEF, STT_SECTION } from '../elf/index.js';
import { parseKallsyms } from '../symbols/parse-kallsyms.js';
import { parseModuleSymvers } from '../symbols/parse-module-symvers.js';
import type { ObjectSymbol } from '../symbols/resolve-sympos.js';
import { ObjectSymbols } from '../symbols/resolve-sympos.js';
import { symbolsWithSourceFile } from '../symbols/with-source-file.js';

/** What the diff needs to know about the object being patched (vmlinux or a module). */
export interface ParentSymbols {
  /** 'vmlinux' or the module name. */
  parent: string;
  table: ObjectSymbols;
  /** Names exported to modules (Module.symvers, else the parent's own __ksymtab_ entries). */
  exports: ReadonlySet<string>;
}

/**
 * Defined symbols in the order the kernel counts sympos: kallsyms order (by address) for vmlinux,
 * symbol-table order for a module or a relocatable object. Locals carry the STT_FILE they follow.
 */
export function parentObjectSymbols(elf: ElfFile): ObjectSymbol[] {
  const symbols: ObjectSymbol[] = [];
  for (const { symbol: s, file } of symbolsWithSourceFile(elf)) {
    if (s.type === STT_SECTION || s.name === '' || (!s.section && s.specialIndex === SHN_UNDEF)) continue;
    const entry: ObjectSymbol = { name: s.name, address: s.value };
    if (file !== undefined) entry.file = file;
    symbols.push(entry);
  }
  if (elf.header.type === ET_EXEC)
    symbols.sort((a, b) => (a.address! < b.address! ? -1 : a.address! > b.address! ? 1 : 0));
  return symbols;
}

/** Reads `--symbols` (vmlinux, a .ko or an object) and, if given, Module.symvers for the exports. */
/**
 * vmlinux's symbols from a kallsyms dump or System.map (already in kallsyms order); there is no
 * source-file information, so same-named statics stay ambiguous. Module.symvers tells the exports.
 */
export async function loadKallsymsParentSymbols(
  path: string,
  moduleSymversPath: string,
): Promise<ParentSymbols> {
  const symbols: ObjectSymbol[] = parseKallsyms(await readFile(path, 'latin1'), path)
    .filter((s) => s.module === undefined)
    .map((s) => ({ name: s.name, address: s.address, type: s.type }));
  const symvers = parseModuleSymvers(await readFile(moduleSymversPath, 'utf8'), moduleSymversPath);
  return {
    parent: 'vmlinux',
    table: new ObjectSymbols('vmlinux', symbols),
    exports: new Set(symvers.keys()),
  };
}

export async function loadParentSymbols(
  path: string,
  parent: string,
  moduleSymversPath?: string,
): Promise<ParentSymbols> {
  const elf = await readElfFile(path, { symbolsOnly: true });
  const symbols = parentObjectSymbols(elf);
  let exports: Set<string>;
  if (moduleSymversPath) {
    const symvers = parseModuleSymvers(await readFile(moduleSymversPath, 'utf8'), moduleSymversPath);
    // Anything in Module.symvers is resolved by the module loader itself, whoever exports it.
    exports = new Set(symvers.keys());
  } else {
    exports = new Set(symbols.filter((s) => s.name.startsWith('__ksymtab_')).map((s) => s.name.slice(10)));
  }
  return { parent, table: new ObjectSymbols(parent, symbols), exports };
}
