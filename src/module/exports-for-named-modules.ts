/**
 * References of the new code to vmlinux exports limited to named modules (EXPORT_SYMBOL_FOR_MODULES, as
 * in 7.2: namespace "module:kvm,kvm-intel"). modpost refuses them in any other module, even with
 * KBUILD_MODPOST_WARN, and the kernel refuses a module that imports such a namespace; but to the
 * livepatch they are ordinary non-exported symbols, which klp-convert turns into livepatch relocations
 * after modpost. So modpost is told not to insist on namespace imports (-N) exactly when these occur.
 */
import { readFile } from 'node:fs/promises';
import { readElfFile, SHN_UNDEF } from '../elf/index.js';
import { SourceError } from '../errors.js';
import { isExportForNamedModules, parseModuleSymvers } from '../symbols/parse-module-symvers.js';

/** The undefined symbols of `objects` that Module.symvers lists as exports for named modules only. */
export async function exportsForNamedModules(
  objects: readonly string[],
  moduleSymvers: string,
): Promise<string[]> {
  const text = await readFile(moduleSymvers, 'utf8').catch((cause: unknown) => {
    throw new SourceError(`cannot read Module.symvers ${moduleSymvers}`, {
      cause,
      hint: "take it from the target's headers package or kernel build",
    });
  });
  const exports = parseModuleSymvers(text, moduleSymvers);
  const found = new Set<string>();
  for (const file of objects) {
    const elf = await readElfFile(file, { symbolsOnly: true });
    for (const s of elf.symbols) {
      const exported = s.specialIndex === SHN_UNDEF && !s.section ? exports.get(s.name) : undefined;
      if (exported && isExportForNamedModules(exported)) found.add(s.name);
    }
  }
  return [...found].sort();
}

/** modpost's switch for -N (Makefile.modpost), given on the module's make command line. */
export const ALLOW_MISSING_NAMESPACE_IMPORTS = 'CONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS=y';
