import { createHash } from 'node:crypto';
import { mkdir, open, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ELF_MAGIC, readElfFile } from '../elf/index.js';
import { isKpatchError, SourceError } from '../errors.js';
import { cacheRoot } from '../source/cache-dir.js';
import { kallsymsIndexEntries } from './kallsyms-entries.js';
import { ObjectSymbols } from './resolve-sympos.js';
import { SYMBOL_INDEX_VERSION, SymbolIndex } from './symbol-index.js';
import { vmlinuxIndexEntries } from './vmlinux-symbols.js';

/** vmlinux: an unstripped ELF; kallsyms: /proc/kallsyms or System.map text (the same line format). */
export type KernelSymbolFormat = 'vmlinux' | 'kallsyms';

export interface LoadKernelSymbolsOptions {
  path: string;
  /** Default: told apart by the ELF magic. */
  format?: KernelSymbolFormat;
  /**
   * Where the index is cached: a directory (an index/ subdirectory of it is used), or false for no cache.
   * Default: the kpatch-build cache root ($CACHEDIR, else $XDG_CACHE_HOME/kpatch-build, else
   * ~/.cache/kpatch-build).
   */
  cacheDir?: string | false;
}

export interface KernelSymbols {
  /** vmlinux's symbols, sympos order. */
  table: ObjectSymbols;
  index: SymbolIndex;
  path: string;
  format: KernelSymbolFormat;
  /** True when the index came from the cache. */
  cached: boolean;
  /** The cache file used or written, if any. */
  cacheFile: string | undefined;
  /** Why the index could not be written to the cache, if it could not. */
  cacheError: string | undefined;
  loadMs: number;
}

/** Directory under the cache root that holds symbol indexes. */
export const SYMBOL_INDEX_DIR = 'symbol-index';

async function detectFormat(path: string): Promise<KernelSymbolFormat> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.equals(ELF_MAGIC) ? 'vmlinux' : 'kallsyms';
  } finally {
    await handle.close();
  }
}

async function buildIndex(path: string, format: KernelSymbolFormat): Promise<SymbolIndex> {
  if (format === 'vmlinux') {
    const elf = await readElfFile(path, { symbolsOnly: true });
    if (!elf.symtab || elf.symbols.length === 0) {
      throw new SourceError(`${path}: vmlinux has no symbol table (stripped?)`, {
        hint: "use an unstripped vmlinux (e.g. Debian's linux-image-<release>-dbg) or pass --system-map",
      });
    }
    return SymbolIndex.build(vmlinuxIndexEntries(elf), path);
  }
  const entries = kallsymsIndexEntries(await readFile(path, 'utf8'), path);
  if (entries.length === 0) {
    throw new SourceError(`${path}: no vmlinux symbols in this kallsyms/System.map file`, {
      hint: 'dump /proc/kallsyms as root on the target (or take System.map from its build)',
    });
  }
  return SymbolIndex.build(entries, path);
}

/**
 * Loads vmlinux's symbols for sympos decisions. The first load of a file parses it and stores a compact
 * index in the cache, keyed by the file's real path, size and modification time (and the index format);
 * later loads read just that index.
 */
export async function loadKernelSymbols(options: LoadKernelSymbolsOptions): Promise<KernelSymbols> {
  const started = performance.now();
  const path = options.path;
  const info = await stat(path).catch((cause: unknown) => {
    throw new SourceError(`cannot read kernel symbols ${path}`, {
      cause,
      hint: 'pass an unstripped vmlinux (--vmlinux) or a System.map / kallsyms dump (--system-map)',
    });
  });
  const format = options.format ?? (await detectFormat(path));
  const cacheDir = options.cacheDir === undefined ? cacheRoot() : options.cacheDir;
  let cacheFile: string | undefined;
  if (cacheDir !== false) {
    const key = createHash('sha256')
      .update(
        JSON.stringify([
          SYMBOL_INDEX_VERSION,
          format,
          await realpath(path),
          info.size,
          info.mtimeMs,
          info.ino,
        ]),
      )
      .digest('hex')
      .slice(0, 32);
    cacheFile = join(cacheDir, SYMBOL_INDEX_DIR, `${key}.klpsyms`);
    const bytes = await readFile(cacheFile).catch(() => undefined);
    if (bytes) {
      try {
        const index = SymbolIndex.fromBuffer(bytes, cacheFile);
        return result(index, path, format, true, cacheFile, undefined, started);
      } catch (error) {
        if (!isKpatchError(error)) throw error;
        // A damaged or outdated index is rebuilt below.
      }
    }
  }
  const index = await buildIndex(path, format);
  let cacheError: string | undefined;
  if (cacheFile) {
    const temporary = `${cacheFile}.tmp-${process.pid}`;
    try {
      await mkdir(join(cacheFile, '..'), { recursive: true });
      await writeFile(temporary, index.bytes);
      await rename(temporary, cacheFile);
    } catch (error) {
      cacheError = error instanceof Error ? error.message : String(error);
      await rm(temporary, { force: true });
      cacheFile = undefined;
    }
  }
  return result(index, path, format, false, cacheFile, cacheError, started);
}

function result(
  index: SymbolIndex,
  path: string,
  format: KernelSymbolFormat,
  cached: boolean,
  cacheFile: string | undefined,
  cacheError: string | undefined,
  started: number,
): KernelSymbols {
  return {
    table: new ObjectSymbols('vmlinux', (name) => index.lookup(name)),
    index,
    path,
    format,
    cached,
    cacheFile,
    cacheError,
    loadMs: performance.now() - started,
  };
}
