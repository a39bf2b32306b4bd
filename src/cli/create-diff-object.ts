import { parseArgs } from 'node:util';
import { createDiffObject } from '../diff/create-diff-object.js';
import { parseStructSizeAssignments, structSizesFromEnv } from '../diff/struct-sizes.js';
import { UsageError } from '../errors.js';
import { probeOutputFile, requireInputs } from './check-paths.js';

export const CREATE_DIFF_OBJECT_HELP = `Usage: create-diff-object ORIG.o PATCHED.o -o OUT.o [options]

Compares one object built from the original and from the patched source (both with
-ffunction-sections -fdata-sections and the kernel's flags) and writes OUT.o with exactly the changed
and new functions, the data they need, and undefined symbols for everything else.

  -o, --output OUT.o       the livepatch object to write
  --symbols FILE           the parent's symbols: vmlinux, a module .ko, or (standalone) ORIG.o itself
  --parent vmlinux|MOD     the object being patched (default vmlinux)
  --module-symvers FILE    Module.symvers of the target, to tell exported symbols
  --json REPORT            write the report (changed/new functions, external references) as JSON
  --struct-size NAME=N     entry size of a special section (repeatable); also read from the
                           environment: ALT_STRUCT_SIZE BUG_STRUCT_SIZE EX_STRUCT_SIZE JUMP_STRUCT_SIZE
                           PARA_STRUCT_SIZE ORC_STRUCT_SIZE STATIC_CALL_STRUCT_SIZE PRINTK_INDEX_STRUCT_SIZE
  -h, --help               this text

Exit status: 0 changes found; 3 no functional change; 2 unsupported change (refused, with hints);
1 error.
`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      symbols: { type: 'string' },
      parent: { type: 'string', default: 'vmlinux' },
      'module-symvers': { type: 'string' },
      json: { type: 'string' },
      'struct-size': { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(CREATE_DIFF_OBJECT_HELP);
    return 0;
  }
  const [origPath, patchedPath, ...extra] = positionals;
  if (!origPath || !patchedPath || extra.length > 0) {
    throw new UsageError('give exactly two objects: ORIG.o PATCHED.o', { hint: 'see --help' });
  }
  if (!values.output) throw new UsageError('give the output object with -o OUT.o', { hint: 'see --help' });
  await requireInputs([
    ['ORIG.o', origPath],
    ['PATCHED.o', patchedPath],
    ['--symbols', values.symbols],
    ['--module-symvers', values['module-symvers']],
  ]);
  await probeOutputFile(values.output, '-o/--output');
  if (values.json) await probeOutputFile(values.json, '--json');
  const structSizes = { ...structSizesFromEnv(), ...parseStructSizeAssignments(values['struct-size']) };
  const report = await createDiffObject({
    origPath,
    patchedPath,
    outputPath: values.output,
    parent: values.parent,
    structSizes,
    ...(values.symbols ? { symbolsPath: values.symbols } : {}),
    ...(values['module-symvers'] ? { moduleSymversPath: values['module-symvers'] } : {}),
    ...(values.json ? { reportPath: values.json } : {}),
  });
  const list = (names: string[]) => (names.length > 0 ? names.join(', ') : '-');
  process.stderr.write(
    `create-diff-object: ${patchedPath}: changed ${list(report.changedFunctions)}; new ${list(report.newFunctions)}\n`,
  );
  for (const u of report.untracedFunctions) {
    process.stderr.write(
      `create-diff-object: ${u.function}() cannot be traced: copied, and its callers ${u.callers.join(', ')} patched instead\n`,
    );
  }
  return 0;
}
