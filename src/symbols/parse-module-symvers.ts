import { SourceError } from '../errors.js';

export interface ExportedSymbol {
  name: string;
  crc: number;
  /** "vmlinux" or the module's path without .ko, as kbuild writes it (e.g. "fs/nfsd/nfsd"). */
  module: string;
  kind: string;
  namespace: string;
}

/** Parses Module.symvers ("crc<TAB>name<TAB>module<TAB>EXPORT_SYMBOL[_GPL]<TAB>namespace"). */
/** An export only the modules its namespace names may use (EXPORT_SYMBOL_FOR_MODULES: "module:a,b"). */
export const isExportForNamedModules = (exported: ExportedSymbol) => exported.namespace.startsWith('module:');

export function parseModuleSymvers(text: string, file = 'Module.symvers'): Map<string, ExportedSymbol> {
  const exports = new Map<string, ExportedSymbol>();
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (line === '') continue;
    const [crc, name, module, kind, namespace = ''] = line.split('\t');
    if (!crc || !name || !module || !kind || !/^0x[0-9a-fA-F]+$/.test(crc)) {
      throw new SourceError(
        `${file}:${lineNo}: not a Module.symvers line: ${JSON.stringify(line.slice(0, 80))}`,
        {
          hint: 'take Module.symvers from the headers package or the kernel build of the target',
        },
      );
    }
    exports.set(name, { name, crc: Number.parseInt(crc, 16), module, kind, namespace });
  }
  return exports;
}

/** The kernel's name for a module path in Module.symvers: basename, '-' becomes '_'. */
export function moduleNameOf(symversModule: string): string {
  return (symversModule.split('/').at(-1) ?? symversModule).replaceAll('-', '_');
}
