import { closeSync, fstatSync, openSync } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { fileDescriptorSource } from './byte-source.js';
import type { ParseOptions } from './parse-elf.js';
import { parseElf, parseElfSource } from './parse-elf.js';
import type { ElfFile } from './types.js';
import type { SerializeOptions } from './write-elf.js';
import { serializeElf } from './write-elf.js';

export interface ReadElfOptions {
  /** Read only headers and the symbol table from the file (fast for a big vmlinux); the result cannot be written. */
  symbolsOnly?: boolean;
}

/** Reads and parses an ELF file; errors name `path`. */
export async function readElfFile(path: string, options: ReadElfOptions = {}): Promise<ElfFile> {
  const parseOptions: ParseOptions = { file: path, symbolsOnly: options.symbolsOnly === true };
  if (!options.symbolsOnly) return parseElf(await readFile(path), parseOptions);
  // Only the pieces the headers point at are read, so a multi-gigabyte file costs a few megabytes.
  const fd = openSync(path, 'r');
  try {
    return parseElfSource(fileDescriptorSource(fd, fstatSync(fd).size, path), parseOptions);
  } finally {
    closeSync(fd);
  }
}

/**
 * Serializes `elf` and writes it to `path` through a temporary file, so a failure leaves no half file.
 * An existing file keeps its permissions; a new one is executable when it has program headers.
 */
export async function writeElfFile(
  path: string,
  elf: ElfFile,
  options: SerializeOptions = {},
): Promise<void> {
  const bytes = serializeElf(elf, options);
  const existingMode = await stat(path).then(
    (s) => s.mode & 0o7777,
    () => undefined,
  );
  const mode = existingMode ?? (elf.header.programHeaders ? 0o755 : 0o644);
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, bytes, { mode });
  await rename(temporary, path);
}
