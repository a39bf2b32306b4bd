import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import type { ElfFile } from '../elf/index.js';
import { findSection, parseElf, SHN_UNDEF, STT_SECTION } from '../elf/index.js';
import { isKpatchError, SourceError } from '../errors.js';
import type { ObjectSymbol } from './resolve-sympos.js';
import { ObjectSymbols } from './resolve-sympos.js';
import { nmType } from './vmlinux-symbols.js';
import { symbolsWithSourceFile } from './with-source-file.js';

/** A loadable module's symbols as the livepatch loader counts them. */
export interface ModuleSymbols {
  /** The kernel's name of the module ('-' already '_'): .modinfo name=, else the file name. */
  name: string;
  path: string;
  /** Defined named symbols in symbol-table order (the kernel's sympos order for a module). */
  table: ObjectSymbols;
  /** Names the module exports (it has __ksymtab_<name>). */
  exports: ReadonlySet<string>;
}

/** Module name as the kernel spells it: '-' becomes '_'. */
export function kernelModuleName(name: string): string {
  return name.replaceAll('-', '_');
}

/** The NUL-separated key=value strings of .modinfo, in order. */
export function modinfoEntries(elf: ElfFile): string[] {
  const section = findSection(elf, '.modinfo');
  if (!section?.dataLoaded) return [];
  return section.data
    .toString('latin1')
    .split('\0')
    .filter((s) => s !== '');
}

/** Symbols of a module object in the order module_kallsyms_on_each_symbol() visits them. */
export function moduleObjectSymbols(elf: ElfFile): ObjectSymbol[] {
  const symbols: ObjectSymbol[] = [];
  for (const { symbol, file } of symbolsWithSourceFile(elf)) {
    if (symbol.type === STT_SECTION || symbol.name === '') continue;
    if (!symbol.section && symbol.specialIndex === SHN_UNDEF) continue;
    const entry: ObjectSymbol = { name: symbol.name, address: symbol.value, type: nmType(symbol) };
    if (file !== undefined) entry.file = file;
    symbols.push(entry);
  }
  return symbols;
}

/** The bytes of a module file, decompressed when its name says .ko.gz, .ko.xz or .ko.zst. */
async function readModuleBytes(path: string): Promise<Buffer> {
  const tool = path.endsWith('.xz') ? 'xz' : path.endsWith('.zst') ? 'zstd' : undefined;
  if (tool) {
    const result = await execa(tool, ['-dc', path], { encoding: 'buffer', reject: false });
    if (result.exitCode !== 0) {
      throw new SourceError(`cannot decompress target module ${path} with ${tool}`, {
        hint: `install ${tool}, or give the uncompressed .ko`,
      });
    }
    return Buffer.from(result.stdout);
  }
  const bytes = await readFile(path);
  return path.endsWith('.gz') ? gunzipSync(bytes) : bytes;
}

/** Reads a target module (.ko, or .ko.gz/.ko.xz/.ko.zst) for its name, symbols and exports. */
export async function readModuleSymbols(path: string): Promise<ModuleSymbols> {
  const bytes = await readModuleBytes(path).catch((cause: unknown) => {
    if (isKpatchError(cause)) throw cause;
    throw new SourceError(`cannot read target module ${path}`, {
      cause,
      hint: "give the .ko file of the target kernel's module",
    });
  });
  const elf = parseElf(bytes, { file: path });
  const nameEntry = modinfoEntries(elf).find((e) => e.startsWith('name='));
  const name = kernelModuleName(nameEntry ? nameEntry.slice(5) : basename(path).replace(/\.ko(\.\w+)?$/, ''));
  const symbols = moduleObjectSymbols(elf);
  const exports = new Set(
    symbols.filter((s) => s.name.startsWith('__ksymtab_')).map((s) => s.name.slice('__ksymtab_'.length)),
  );
  return { name, path, table: new ObjectSymbols(name, symbols), exports };
}
