/**
 * Speed of klp-convert on a ~1 MB livepatch module, including vmlinux symbol loading:
 *   node --import tsx bench/klp-convert.ts [--kallsyms FILE] [--vmlinux FILE] [RUNS]
 * Builds (once, cached in the temp dir) a ~1 MB module of many functions that reference non-exported
 * symbols, a kallsyms file of 100k symbols and a vmlinux-like ELF of 150k symbols that define them. For
 * each symbol source it times a cold conversion (no index in the cache: parse + index + convert) and warm
 * ones (index read from the cache), in this process and through bin/klp-convert.js. Files given with
 * --kallsyms/--vmlinux (e.g. a real target's) are timed for symbol loading only, cold and warm.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { convertLivepatchModule } from '../src/klp/index.js';
import { loadKernelSymbols } from '../src/symbols/load-kernel-symbols.js';

const REPO = new URL('../', import.meta.url).pathname;
const CACHE = join(tmpdir(), 'kpatch-klp-convert-bench-v1');
const FUNCTIONS = 640;
const UNIQUE_TARGETS = 3000;
const DUPLICATED_TARGETS = 50;
const FILLER_SYMBOLS = 100_000;
const VMLINUX_SYMBOLS = 150_000;

const { values, positionals } = parseArgs({
  options: { kallsyms: { type: 'string' }, vmlinux: { type: 'string' } },
  allowPositionals: true,
});
const runs = Number(positionals[0] ?? 5);

/** Addresses of the synthetic kernel: ksym_<i> unique, dup_<i> twice, filler to make it vmlinux-sized. */
function kallsymsText(): string {
  const lines: string[] = [];
  let address = 0xffffffff81000000n;
  const add = (type: string, name: string) => {
    lines.push(`${address.toString(16)} ${type} ${name}`);
    address += 0x40n;
  };
  for (let i = 0; i < FILLER_SYMBOLS; i++) {
    add(i % 3 === 0 ? 'T' : 't', `filler_symbol_${i}`);
    if (i % 33 === 0 && i / 33 < UNIQUE_TARGETS) add('t', `ksym_${i / 33}`);
    if (i % 1000 === 0 && i / 1000 < DUPLICATED_TARGETS) add('t', `dup_${i / 1000}`);
    if (i % 1000 === 500 && (i - 500) / 1000 < DUPLICATED_TARGETS) add('d', `dup_${(i - 500) / 1000}`);
  }
  for (let i = 0; i < 20; i++) add('T', `exported_${i}`);
  return `${lines.join('\n')}\n`;
}

function moduleSource(): string {
  const lines = ['#include "klp-module-reloc.h"'];
  for (let i = 0; i < UNIQUE_TARGETS; i++) lines.push(`extern int ksym_${i}(int);`);
  for (let i = 0; i < DUPLICATED_TARGETS; i++) lines.push(`extern int dup_${i}(int);`);
  for (let i = 0; i < 20; i++) lines.push(`extern int exported_${i}(int);`);
  lines.push('KLP_MODULE_RELOC(vmlinux) = {');
  for (let i = 0; i < DUPLICATED_TARGETS; i++) lines.push(`  KLP_SYMPOS(dup_${i}, 2),`);
  lines.push('};');
  for (let f = 0; f < FUNCTIONS; f++) {
    const calls = [0, 1, 2, 3].map((k) => `ksym_${(f * 7 + k * 13) % UNIQUE_TARGETS}(x + ${k})`);
    calls.push(`dup_${f % DUPLICATED_TARGETS}(x)`, `exported_${f % 20}(x)`);
    lines.push(
      `int patched_${f}(int x) { static int state; state += x; return state + ${calls.join(' + ')}; }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const MOD_C = `
struct modversion_info { unsigned long crc; char name[56]; };
static const struct modversion_info ____versions[] __attribute__((used, section("__versions"), aligned(32))) = {
  { 0x1, "module_layout" }, { 0x2, "exported_0" },
};
static const char a[] __attribute__((used, section(".modinfo"), aligned(1))) = "livepatch=Y";
static const char b[] __attribute__((used, section(".modinfo"), aligned(1))) = "depends=";
static const char c[] __attribute__((used, section(".modinfo"), aligned(1))) = "name=klp_bench";
`;

async function buildModule(): Promise<string> {
  const output = join(CACHE, 'klp_bench.ko');
  if (existsSync(output)) return output;
  const flags = ['-c', '-O2', '-g', '-ffunction-sections', '-fdata-sections', '-fno-pic', '-mcmodel=kernel'];
  await writeFile(join(CACHE, 'klp_bench.c'), moduleSource());
  await writeFile(join(CACHE, 'klp_bench.mod.c'), MOD_C);
  const include = ['-I', join(REPO, 'include')];
  await execa('gcc', [...flags, ...include, join(CACHE, 'klp_bench.c'), '-o', join(CACHE, 'klp_bench.o')]);
  await execa('gcc', [...flags, join(CACHE, 'klp_bench.mod.c'), '-o', join(CACHE, 'klp_bench.mod.o')]);
  await execa('ld', ['-r', '-o', output, join(CACHE, 'klp_bench.o'), join(CACHE, 'klp_bench.mod.o')]);
  return output;
}

/** A linked ELF with VMLINUX_SYMBOLS symbols (locals grouped under .file entries), as vmlinux has. */
async function buildVmlinux(): Promise<string> {
  const output = join(CACHE, 'vmlinux');
  if (existsSync(output)) return output;
  const names = kallsymsText()
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[2]!);
  for (let i = names.length; i < VMLINUX_SYMBOLS; i++) names.push(`more_filler_${i}`);
  // An assembler file cannot define a name twice: second dup_<i> definitions go to a second file.
  const files: string[][] = [['.text'], ['.text', '.file "src/dups.c"']];
  const seen = new Set<string>();
  names.forEach((name, i) => {
    const lines = seen.has(name) ? files[1]! : files[0]!;
    seen.add(name);
    if (i % 50 === 0) files[0]!.push(`.file "src/file_${i / 50}.c"`);
    if (name.startsWith('exported_') || name.startsWith('filler_symbol_1')) lines.push(`.globl ${name}`);
    lines.push(`.type ${name}, @function`, `${name}:`, 'ret');
  });
  const objects = await Promise.all(
    files.map(async (lines, i) => {
      const source = join(CACHE, `vmlinux-${i}.s`);
      await writeFile(source, `${lines.join('\n')}\n`);
      await execa('as', ['-o', `${source}.o`, source]);
      return `${source}.o`;
    }),
  );
  await execa('ld', ['-e', '0', '-o', output, ...objects]);
  return output;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function bench(label: string, symbolFile: string, kind: 'systemMap' | 'vmlinux', module: string) {
  const cacheDir = await mkdtemp(join(tmpdir(), 'klp-bench-cache-'));
  const output = join(cacheDir, 'out.ko');
  const options = { input: module, output, [kind]: symbolFile, cacheDir };
  try {
    const cold = await convertLivepatchModule(options);
    const warm: number[] = [];
    const load: number[] = [];
    for (let i = 0; i < runs; i++) {
      const result = await convertLivepatchModule(options);
      if (!result.symbols?.cached) throw new Error('expected the cached index');
      warm.push(result.durationMs);
      load.push(result.symbols.loadMs);
    }
    const index = (await loadKernelSymbols({ path: symbolFile, cacheDir })).cacheFile!;
    const cli: number[] = [];
    for (let i = 0; i < Math.min(runs, 3); i++) {
      const started = performance.now();
      await execa(
        'node',
        [
          join(REPO, 'bin/klp-convert.js'),
          `--${kind === 'systemMap' ? 'system-map' : 'vmlinux'}`,
          symbolFile,
          module,
          output,
        ],
        {
          env: { CACHEDIR: cacheDir },
        },
      );
      cli.push(performance.now() - started);
    }
    const ms = (x: number) => `${x.toFixed(0)} ms`;
    console.log(
      `${label}: ${cold.converted.length} symbols, ${cold.klpSections.length} .klp.rela sections, ${cold.klpSections.reduce((n, s) => n + s.relocations, 0)} relocations\n` +
        `  cold (parse + index + convert): ${ms(cold.durationMs)} (symbols ${ms(cold.symbols!.loadMs)})\n` +
        `  warm (cached index ${((await stat(index)).size / 1e6).toFixed(1)} MB): median ${ms(median(warm))} of ${runs} (symbols ${ms(median(load))})\n` +
        `  bin/klp-convert.js wall time, warm (incl. node + tsx start): median ${ms(median(cli))}`,
    );
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

async function benchLoading(path: string): Promise<void> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'klp-bench-cache-'));
  try {
    const cold = await loadKernelSymbols({ path, cacheDir });
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) warm.push((await loadKernelSymbols({ path, cacheDir })).loadMs);
    console.log(
      `${path} (${cold.format}, ${cold.index.symbolCount} symbols): cold ${cold.loadMs.toFixed(0)} ms, ` +
        `from the cached index median ${median(warm).toFixed(1)} ms`,
    );
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

for (const path of [values.kallsyms, values.vmlinux]) if (path) await benchLoading(path);
if (values.kallsyms || values.vmlinux) process.exit(0);

await mkdir(CACHE, { recursive: true });
const module = await buildModule();
console.log(`module ${module}: ${((await stat(module)).size / 1e6).toFixed(2)} MB`);
const kallsyms = join(CACHE, 'kallsyms');
if (!existsSync(kallsyms)) await writeFile(kallsyms, kallsymsText());
console.log(`kallsyms ${kallsyms}: ${(await readFile(kallsyms, 'utf8')).split('\n').length - 1} lines`);
await bench('kallsyms', kallsyms, 'systemMap', module);
const vmlinux = await buildVmlinux();
await bench('vmlinux ELF', vmlinux, 'vmlinux', module);
