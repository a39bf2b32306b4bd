import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import type { ConvertLivepatchResult } from '../klp/convert-livepatch-module.js';
import { convertLivepatchModule } from '../klp/convert-livepatch-module.js';
import { probeOutputFile, requireInputs } from './check-paths.js';

export const KLP_CONVERT_HELP = `Usage: klp-convert (--vmlinux FILE | --system-map FILE) [options] IN.ko OUT.ko

Rewrites a livepatch module built by kbuild so the kernel's livepatch core resolves the symbols the module
loader cannot: references to non-exported vmlinux symbols and to symbols of modules become
.klp.rela.<object>.<section> relocations against .klp.sym.<object>.<symbol>,<position> symbols.
Positions come from KLP_MODULE_RELOC(<object>) = { KLP_SYMPOS(<symbol>, <position>), } arrays
(include/klp-module-reloc.h); a symbol without one is converted when its name is unique in its object.
References to vmlinux exports stay normal relocations.

  --vmlinux FILE          the target's unstripped vmlinux (ELF with a symbol table)
  --system-map FILE       the target's System.map or a /proc/kallsyms dump (module lines are ignored)
  --module-symvers FILE   the target's Module.symvers: tells exports apart, and which module exports what
  --target-module KO      a target module's .ko, for its symbols (repeatable)
  --allow-unresolved      leave references to symbols found nowhere as they are (the module will not
                          load unless something provides them)
  --no-cache              do not read or write the cached symbol index
  --json                  print the result as JSON on stdout
  -h, --help              this text

Symbols of a vmlinux or System.map are indexed once and cached by path, size and modification time under
$CACHEDIR, else $XDG_CACHE_HOME/kpatch-build, else ~/.cache/kpatch-build (symbol-index/).
Exit status: 0 converted; 1 the module cannot be converted (the message lists every problem); 64 usage.
`;

function printResult(result: ConvertLivepatchResult, out: NodeJS.WritableStream): void {
  for (const c of result.converted) {
    const how =
      c.reason === 'declared'
        ? `declared in ${c.declaredAt}`
        : c.reason === 'unique'
          ? 'unique name'
          : 'module export';
    out.write(
      `klp-convert: ${c.name} -> ${c.klpSymbol} (${how}; ${c.relocations} relocation${c.relocations === 1 ? '' : 's'})\n`,
    );
  }
  for (const s of result.klpSections) {
    out.write(
      `klp-convert: section ${s.name}: ${s.relocations} relocation${s.relocations === 1 ? '' : 's'} for ${s.target}\n`,
    );
  }
  if (result.removedSections.length > 0)
    out.write(`klp-convert: removed sections ${result.removedSections.join(', ')}\n`);
  if (result.removedVersions.length > 0)
    out.write(`klp-convert: removed __versions entries ${result.removedVersions.join(', ')}\n`);
  if (result.removedDepends.length > 0)
    out.write(`klp-convert: removed from depends= ${result.removedDepends.join(', ')}\n`);
  const kept = result.exportsKept.length;
  const symbols = result.symbols
    ? `; symbols from ${result.symbols.cached ? 'cached index' : result.symbols.path} in ${result.symbols.loadMs.toFixed(0)} ms`
    : '';
  out.write(
    `klp-convert: wrote ${result.output}: ${result.converted.length} symbol${result.converted.length === 1 ? '' : 's'} converted, ${kept} export${kept === 1 ? '' : 's'} kept${symbols}\n`,
  );
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), { hint: 'see --help' });
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(KLP_CONVERT_HELP);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      `expected IN.ko and OUT.ko, got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}`,
      {
        hint: 'see --help',
      },
    );
  }
  if (!values.vmlinux === !values['system-map']) {
    throw new UsageError('give exactly one of --vmlinux and --system-map', { hint: 'see --help' });
  }
  const [input, output] = positionals as [string, string];
  await requireInputs([
    ['IN.ko', input],
    ['--vmlinux', values.vmlinux],
    ['--system-map', values['system-map']],
    ['--module-symvers', values['module-symvers']],
    ...values['target-module'].map((m) => ['--target-module', m] as const),
  ]);
  await probeOutputFile(output, 'OUT.ko');
  const result = await convertLivepatchModule({
    input,
    output,
    vmlinux: values.vmlinux,
    systemMap: values['system-map'],
    moduleSymvers: values['module-symvers'],
    targetModules: values['target-module'],
    allowUnresolved: values['allow-unresolved'],
    ...(values['no-cache'] ? { cacheDir: false as const } : {}),
  });
  for (const warning of result.warnings) process.stderr.write(`klp-convert: warning: ${warning}\n`);
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify(result, (_key, value) => (typeof value === 'bigint' ? `0x${value.toString(16)}` : value), 2)}\n`,
    );
    return 0;
  }
  printResult(result, process.stdout);
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      vmlinux: { type: 'string' },
      'system-map': { type: 'string' },
      'module-symvers': { type: 'string' },
      'target-module': { type: 'string', multiple: true, default: [] },
      'allow-unresolved': { type: 'boolean', default: false },
      'no-cache': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
}
