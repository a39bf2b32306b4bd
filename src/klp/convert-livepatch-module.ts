import { readFile } from 'node:fs/promises';
import { parseElf, writeElfFile } from '../elf/index.js';
import { ConvertError, SourceError, UsageError } from '../errors.js';
import type { KernelSymbols } from '../symbols/load-kernel-symbols.js';
import { loadKernelSymbols } from '../symbols/load-kernel-symbols.js';
import type { ModuleSymbols } from '../symbols/module-symbols.js';
import { readModuleSymbols } from '../symbols/module-symbols.js';
import type { ExportedSymbol } from '../symbols/parse-module-symvers.js';
import { parseModuleSymvers } from '../symbols/parse-module-symvers.js';
import { convertElf } from './convert-elf.js';
import type { ConvertReport } from './convert-types.js';

export interface ConvertLivepatchOptions {
  /** The livepatch module kbuild built. */
  input: string;
  /** Where the converted module goes (may be `input`). */
  output: string;
  /** An unstripped vmlinux ELF of the target. */
  vmlinux?: string | undefined;
  /** The target's System.map or a /proc/kallsyms dump. */
  systemMap?: string | undefined;
  /** The target's Module.symvers. */
  moduleSymvers?: string | undefined;
  /** .ko files of target modules (for symbols of modules). */
  targetModules?: readonly string[] | undefined;
  allowUnresolved?: boolean | undefined;
  /** Cache directory for the vmlinux symbol index; false: no cache. Default: the kpatch-build cache. */
  cacheDir?: string | false | undefined;
}

export interface ConvertLivepatchResult extends ConvertReport {
  input: string;
  output: string;
  /** How vmlinux's symbols were loaded, when they were. */
  symbols:
    | {
        path: string;
        format: KernelSymbols['format'];
        cached: boolean;
        cacheFile: string | undefined;
        loadMs: number;
      }
    | undefined;
  targetModules: Array<{ name: string; path: string }>;
  durationMs: number;
}

const SIGNATURE_MARKER = Buffer.from('~Module signature appended~\n', 'latin1');

async function readSymvers(path: string): Promise<Map<string, ExportedSymbol>> {
  const text = await readFile(path, 'utf8').catch((cause: unknown) => {
    throw new SourceError(`cannot read Module.symvers ${path}`, {
      cause,
      hint: "take it from the target's headers package or kernel build",
    });
  });
  return parseModuleSymvers(text, path);
}

/**
 * Converts a kbuild-built livepatch module (see convertElf) and writes the result. Symbols come from an
 * unstripped vmlinux or a System.map/kallsyms file (indexed once and cached), Module.symvers tells exports
 * apart, and target modules' .ko files supply module symbols.
 */
export async function convertLivepatchModule(
  options: ConvertLivepatchOptions,
): Promise<ConvertLivepatchResult> {
  const started = performance.now();
  if (options.vmlinux && options.systemMap) {
    throw new UsageError('give either a vmlinux or a System.map/kallsyms file, not both');
  }
  const input = await readFile(options.input).catch((cause: unknown) => {
    throw new SourceError(`cannot read module ${options.input}`, { cause, hint: 'check the path' });
  });
  if (
    input.length >= SIGNATURE_MARKER.length &&
    input.subarray(-SIGNATURE_MARKER.length).equals(SIGNATURE_MARKER)
  ) {
    throw new ConvertError(`${options.input}: the module is signed; converting would break the signature`, {
      hint: 'convert the unsigned module, then sign the result',
    });
  }
  const symbolPath = options.vmlinux ?? options.systemMap;
  const [symbols, exports, modules] = await Promise.all([
    symbolPath
      ? loadKernelSymbols({
          path: symbolPath,
          format: options.vmlinux ? 'vmlinux' : 'kallsyms',
          ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
        })
      : undefined,
    options.moduleSymvers ? readSymvers(options.moduleSymvers) : undefined,
    Promise.all((options.targetModules ?? []).map((path) => readModuleSymbols(path))),
  ]);
  const byName = new Map<string, ModuleSymbols>();
  for (const module of modules) {
    const other = byName.get(module.name);
    if (other) {
      throw new UsageError(
        `two target modules are both called ${module.name}: ${other.path} and ${module.path}`,
      );
    }
    byName.set(module.name, module);
  }
  const elf = parseElf(input, { file: options.input });
  const report = convertElf(elf, {
    vmlinux: symbols?.table,
    vmlinuxSource: symbolPath,
    exports,
    modules: byName,
    allowUnresolved: options.allowUnresolved === true,
  });
  await writeElfFile(options.output, elf).catch((cause: unknown) => {
    throw new ConvertError(`cannot write ${options.output}`, {
      cause,
      hint: 'check that its directory exists and is writable',
    });
  });
  return {
    input: options.input,
    output: options.output,
    ...report,
    symbols: symbols && {
      path: symbols.path,
      format: symbols.format,
      cached: symbols.cached,
      cacheFile: symbols.cacheFile,
      loadMs: symbols.loadMs,
    },
    targetModules: modules.map((m) => ({ name: m.name, path: m.path })),
    durationMs: performance.now() - started,
  };
}
