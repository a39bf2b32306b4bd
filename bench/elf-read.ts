/**
 * Parse/serialize speed and memory of src/elf.
 *   node --import tsx bench/elf-read.ts [FILE...]
 * Without FILE it builds (once, cached in the temp dir) an `ld -r` of many kernel-style objects and a
 * vmlinux-sized executable (150k symbols, 400 MB), and measures both.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseElf, readElfFile, serializeElf } from '../src/elf/index.js';

const CACHE = join(tmpdir(), 'kpatch-elf-bench-v1');
const OBJECT_FILES = 48;
const FUNCTIONS_PER_FILE = 250;
const VMLINUX_SYMBOLS = 150_000;
const VMLINUX_DATA_BYTES = 400_000_000;

function cSource(file: number): string {
  const lines = [`extern int shared_counter; extern int printk(const char *, ...);`];
  for (let i = 0; i < FUNCTIONS_PER_FILE; i++) {
    lines.push(
      `static int state_${i}[4] = { ${i}, ${file} };`,
      `int f${file}_${i}(int x) { state_${i}[x & 3] += x; return printk("f${file}_${i} %d", x) + shared_counter + ${i > 0 ? `f${file}_${i - 1}(x - 1)` : '0'}; }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function buildRelocatable(): Promise<string> {
  const output = join(CACHE, 'big-relocatable.o');
  if (existsSync(output)) return output;
  const objects: string[] = [];
  const flags = [
    '-c',
    '-O2',
    '-ffunction-sections',
    '-fdata-sections',
    '-fno-pic',
    '-mcmodel=kernel',
    '-pg',
    '-mfentry',
  ];
  for (let start = 0; start < OBJECT_FILES; start += 8) {
    const batch = Array.from({ length: Math.min(8, OBJECT_FILES - start) }, (_, k) => start + k);
    await Promise.all(
      batch.map(async (n) => {
        const source = join(CACHE, `unit${n}.c`);
        await writeFile(source, cSource(n));
        await execa('gcc', [...flags, source, '-o', `${source}.o`]);
        objects[n] = `${source}.o`;
      }),
    );
  }
  await execa('ld', ['-r', '-o', output, ...objects]);
  return output;
}

async function buildVmlinuxLike(): Promise<string> {
  const output = join(CACHE, 'vmlinux-like');
  if (existsSync(output)) return output;
  const lines = ['.text'];
  for (let i = 0; i < VMLINUX_SYMBOLS; i++)
    lines.push(`.globl sym_${i}`, `.type sym_${i},@function`, `sym_${i}: ret`);
  lines.push('.section .data.big,"aw"', `.skip ${VMLINUX_DATA_BYTES}`);
  const source = join(CACHE, 'vmlinux-like.s');
  await writeFile(source, `${lines.join('\n')}\n`);
  await execa('as', ['-o', `${source}.o`, source]);
  await execa('ld', ['-e', 'sym_0', '-o', output, `${source}.o`]);
  return output;
}

function milliseconds(start: number): string {
  return `${(performance.now() - start).toFixed(1)} ms`;
}

function bestOf(runs: number, action: () => unknown): string {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    action();
    best = Math.min(best, performance.now() - start);
  }
  return `${best.toFixed(1)} ms`;
}

async function measure(path: string): Promise<void> {
  let start = performance.now();
  const bytes = await readFile(path);
  const readTime = milliseconds(start);
  start = performance.now();
  const elf = parseElf(bytes, { file: path });
  const parseTime = milliseconds(start);
  start = performance.now();
  let relocations = 0;
  for (const section of elf.sections) relocations += section.relocations?.length ?? 0;
  const decodeTime = milliseconds(start);
  start = performance.now();
  const output = serializeElf(elf);
  const serializeTime = milliseconds(start);
  start = performance.now();
  const light = await readElfFile(path, { symbolsOnly: true });
  const symbolsOnlyTime = milliseconds(start);
  const warmParse = bestOf(3, () => parseElf(bytes, { file: path }));
  const warmSerialize = bestOf(3, () => serializeElf(elf));

  console.log(`file: ${path} (${(bytes.length / 1e6).toFixed(1)} MB)`);
  console.log(
    `  sections: ${elf.sections.length}  symbols: ${elf.symbols.length}  relocations: ${relocations}`,
  );
  console.log(`  read file:          ${readTime}`);
  console.log(`  parse:              ${parseTime} (warm, best of 3: ${warmParse})`);
  console.log(`  decode relocations: ${decodeTime} (already decoded at parse for ET_REL)`);
  console.log(
    `  serialize:          ${serializeTime} (warm: ${warmSerialize}; identical: ${output.equals(bytes) ? 'yes' : 'no'})`,
  );
  console.log(`  symbols-only read:  ${symbolsOnlyTime} (${light.symbols.length} symbols)`);
}

async function main(): Promise<void> {
  let files = process.argv.slice(2);
  if (files.length === 0) {
    await mkdir(CACHE, { recursive: true });
    files = [await buildRelocatable(), await buildVmlinuxLike()];
  }
  for (const file of files) await measure(file);
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

await main();
