import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { COMDAT_CXX, KERNEL_CFLAGS, KERNEL_LIKE_C, MODULE_HELPER_C, MODULE_MAIN_C } from './sources.js';

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `kpatch-elf-${prefix}-`));
}

export async function removeTempDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** Writes `source` to `dir/name` and compiles it with gcc (g++ for .cc) into `dir/<base>.o`. */
export async function compile(
  dir: string,
  name: string,
  source: string,
  flags: readonly string[],
): Promise<string> {
  const input = join(dir, name);
  const output = join(dir, `${name.replace(/\.[^.]+$/, '')}.o`);
  await writeFile(input, source);
  await execa(name.endsWith('.cc') ? 'g++' : 'gcc', [...flags, input, '-o', output]);
  return output;
}

/** `ld -r` of the given objects into `dir/output`. */
export async function linkRelocatable(
  dir: string,
  output: string,
  inputs: readonly string[],
): Promise<string> {
  const path = join(dir, output);
  await execa('ld', ['-r', '-o', path, ...inputs]);
  return path;
}

export async function readelf(path: string, args: readonly string[] = ['-aW']): Promise<string> {
  const { stdout } = await execa('readelf', [...args, path], { reject: false, all: false });
  return stdout;
}

export interface TestObjects {
  dir: string;
  /** gcc -c with kernel flags: many sections, rela, __mcount_loc, .eh_frame, TLS, a COMDAT group. */
  kernelObject: string;
  /** `ld -r` of two module sources: .modinfo, this_module, ksymtab, __versions, __jump_table. */
  moduleObject: string;
  /** g++ object with template/inline COMDAT groups. */
  comdatObject: string;
  /** `ld -r` of all of the above: the biggest relocatable. */
  combinedObject: string;
  /** A dynamically linked executable built with --emit-relocs (ET_DYN/ET_EXEC with .rela.* against .symtab). */
  executable: string;
}

export async function buildTestObjects(prefix: string): Promise<TestObjects> {
  const dir = await makeTempDir(prefix);
  try {
    return await compileTestObjects(dir);
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
}

async function compileTestObjects(dir: string): Promise<TestObjects> {
  const kernelFlags = KERNEL_CFLAGS.filter((f) => f !== '-fno-asynchronous-unwind-tables');
  const kernelObject = await compile(dir, 'kernel-like.c', KERNEL_LIKE_C, kernelFlags);
  const moduleMain = await compile(dir, 'module-main.c', MODULE_MAIN_C, KERNEL_CFLAGS);
  const moduleHelper = await compile(dir, 'module-helper.c', MODULE_HELPER_C, KERNEL_CFLAGS);
  const moduleObject = await linkRelocatable(dir, 'testmod.ko', [moduleMain, moduleHelper]);
  const comdatObject = await compile(dir, 'comdat.cc', COMDAT_CXX, ['-c', '-O0', '-ffunction-sections']);
  const combinedObject = await linkRelocatable(dir, 'combined.o', [kernelObject, moduleObject, comdatObject]);
  const mainSource =
    'extern int dispatch(int); int undefined_ext(int x) { return x; }\nvoid printk(const char *f, ...) {}\nint main(int c, char **v) { return dispatch(c); }\n';
  const mainObject = await compile(dir, 'main.c', mainSource, ['-c', '-O2']);
  const plainKernel = await compile(dir, 'kernel-plain.c', KERNEL_LIKE_C, ['-c', '-O2']);
  const executable = join(dir, 'program');
  await execa('gcc', ['-Wl,--emit-relocs', '-o', executable, mainObject, plainKernel]);
  return { dir, kernelObject, moduleObject, comdatObject, combinedObject, executable };
}

/**
 * An assembler-made object with more than 0xff00 sections, so it uses extended numbering
 * (e_shnum 0, e_shstrndx SHN_XINDEX, SHT_SYMTAB_SHNDX).
 */
export async function buildManySectionsObject(dir: string, count: number): Promise<string> {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    // A relocation every 1000 sections keeps readelf fast on the result.
    const payload = i % 1000 === 0 ? `.quad sym${(i + 7) % count}` : '.byte 1';
    lines.push(`.section .data.s${i},"aw"`, `.globl sym${i}`, `sym${i}:`, payload);
  }
  const input = join(dir, 'many.s');
  const output = join(dir, 'many.o');
  await writeFile(input, `${lines.join('\n')}\n`);
  await execa('as', ['-o', output, input]);
  return output;
}
