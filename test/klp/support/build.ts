import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const FIXTURES = join(REPO, 'test/fixtures/klp');

/** Kernel-module-like code generation: no PIC, kernel code model, a section per function and object. */
const MODULE_CFLAGS = [
  '-c',
  '-O2',
  '-g',
  '-mcmodel=kernel',
  '-fno-pic',
  '-mno-red-zone',
  '-ffunction-sections',
  '-fdata-sections',
  '-I',
  join(REPO, 'include'),
];

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `klp-${prefix}-`));
}

export async function removeTempDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

async function compile(
  dir: string,
  source: string,
  output: string,
  flags: readonly string[],
): Promise<string> {
  const path = join(dir, output);
  await execa('gcc', [...flags, join(FIXTURES, source), '-o', path]);
  return path;
}

/**
 * The miniature livepatch module (livepatch.c + livepatch.mod.c, `ld -r` like kbuild's .ko link) built
 * with the given -D defines, as `dir/<name>.ko`.
 */
export async function buildLivepatch(
  dir: string,
  name: string,
  defines: readonly string[] = [],
  modDefines: readonly string[] = [],
): Promise<string> {
  const d = defines.map((x) => `-D${x}`);
  const main = await compile(dir, 'livepatch.c', `${name}.o`, [...MODULE_CFLAGS, ...d]);
  const mod = await compile(dir, 'livepatch.mod.c', `${name}.mod.o`, [
    ...MODULE_CFLAGS,
    ...modDefines.map((x) => `-D${x}`),
  ]);
  const ko = join(dir, `${name}.ko`);
  await execa('ld', ['-r', '-o', ko, main, mod]);
  return ko;
}

/** The miniature target module, as `dir/target-mod.ko` (module name target_mod). */
export async function buildTargetModule(dir: string): Promise<string> {
  const object = await compile(dir, 'target_mod.c', 'target_mod.o', MODULE_CFLAGS);
  const ko = join(dir, 'target-mod.ko');
  await execa('ld', ['-r', '-o', ko, object]);
  return ko;
}

/** A linked "vmlinux" with STT_FILE symbols and two dup_static symbols out of address order. */
export async function buildVmlinux(dir: string): Promise<string> {
  const a = await compile(dir, 'vmlinux_a.c', 'vmlinux_a.o', ['-c', '-O2', '-fno-pic']);
  const b = await compile(dir, 'vmlinux_b.c', 'vmlinux_b.o', ['-c', '-O2', '-fno-pic']);
  const vmlinux = join(dir, 'vmlinux');
  await execa('ld', ['-o', vmlinux, a, b]);
  return vmlinux;
}

/** kallsyms text for the miniature kernel: dup_static twice, an export with its __ksymtab_ entry, modules. */
export const KALLSYMS = [
  '0000000000000000 A fixed_percpu_data',
  'ffffffff81000000 T _stext',
  'ffffffff81000100 t dup_static',
  'ffffffff81000200 T exported_fn',
  'ffffffff81000300 t dup_static',
  'ffffffff82000000 r __ksymtab_exported_fn',
  'ffffffff83000000 B saved_command_line',
  'ffffffffc0000000 t mod_static\t[target_mod]',
  'ffffffffc0000100 T dup_static\t[some_module]',
  '',
].join('\n');

export const SYMVERS = [
  '0x22222222\texported_fn\tvmlinux\tEXPORT_SYMBOL\t',
  '0x33333333\tmod_export\tdrivers/misc/target-mod\tEXPORT_SYMBOL_GPL\t',
  '0x44444444\tklp_enable_patch\tvmlinux\tEXPORT_SYMBOL_GPL\t',
  '',
].join('\n');

export async function writeText(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}
