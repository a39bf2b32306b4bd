/**
 * The loadable modules a target kernel ships (its lib/modules/<release>): found by name, and given back
 * uncompressed. Distros compress them (Fedora and the RHEL family .ko.xz, newer Ubuntu .ko.zst); the
 * livepatch build reads a module's symbols and the VM loads it, both of which need the plain ELF file.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readElfFile } from '../elf/index.js';
import { DistroError } from '../errors.js';
import { moduleNameFromPath } from '../kbuild/object-parent.js';
import { modinfoValue } from '../module/modinfo.js';

const MODULE_FILE = /\.ko(\.xz|\.zst|\.gz)?$/;

/** Directories of lib/modules/<release> whose modules win over kernel/'s of the same name (depmod's rule). */
const OVERRIDES = /^(updates|extra)\//;

/**
 * The target's modules by the name the kernel knows them ('-' as '_'), from the files under `dir`
 * (lib/modules/<release>), compressed or not.
 */
export function findTargetModules(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (MODULE_FILE.test(entry.name)) {
        const name = moduleNameFromPath(entry.name.replace(MODULE_FILE, '.ko'));
        const seen = found.get(name);
        if (seen === undefined || (OVERRIDES.test(path) && !OVERRIDES.test(seen))) found.set(name, path);
      }
    }
  };
  walk('');
  return new Map([...found].map(([name, path]) => [name, join(dir, path)]));
}

function decompress(path: string): Buffer {
  if (path.endsWith('.gz')) return gunzipSync(readFileSync(path));
  const tool = path.endsWith('.xz') ? 'xz' : 'zstd';
  const run = spawnSync(tool, ['-dc', path], { maxBuffer: 1 << 30 });
  if (run.error || run.status !== 0) {
    throw new DistroError(
      `cannot decompress ${path}: ${run.error?.message ?? run.stderr.toString().trim()}`,
      {
        hint: `${tool} must be installed (apt-get install ${tool === 'xz' ? 'xz-utils' : 'zstd'})`,
      },
    );
  }
  return run.stdout;
}

/**
 * The module at `path` as a plain .ko: itself when not compressed, else decompressed once into
 * `outDir` (kept there, so later runs reuse it).
 */
export function uncompressedModule(path: string, outDir: string): string {
  if (path.endsWith('.ko')) return path;
  const out = join(outDir, basename(path).replace(MODULE_FILE, '.ko'));
  try {
    if (statSync(out).mtimeMs >= statSync(path).mtimeMs) return out;
  } catch {
    // not decompressed yet
  }
  mkdirSync(outDir, { recursive: true });
  const part = `${out}.part`;
  try {
    writeFileSync(part, decompress(path));
    renameSync(part, out);
  } finally {
    rmSync(part, { force: true });
  }
  return out;
}

/** The vermagic every module of the target carries, read from the smallest of them. */
export async function targetVermagic(modules: Map<string, string>, outDir: string): Promise<string> {
  const bySize = [...modules.values()].sort((a, b) => statSync(a).size - statSync(b).size);
  for (const path of bySize.slice(0, 3)) {
    const vermagic = modinfoValue(await readElfFile(uncompressedModule(path, outDir)), 'vermagic');
    if (vermagic) return vermagic;
  }
  throw new DistroError(`no module with a vermagic among the target's ${modules.size} modules`, {
    hint: 'the modules package may be empty or corrupt; clear its cache entry',
  });
}

/**
 * The modules `modules` need loaded first (their .modinfo `depends=`, transitively), uncompressed, in an
 * order insmod accepts: dependencies before their users. Debian's packages ship no modules.dep (depmod
 * writes it at install time), so the modules' own records are read. `modules` themselves are left out.
 */
export async function moduleDependencies(modules: readonly string[], modulesDir: string): Promise<string[]> {
  const files = findTargetModules(modulesDir);
  const outDir = `${modulesDir}.uncompressed`;
  const given = new Set(modules);
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = async (path: string) => {
    if (visiting.has(path) || ordered.includes(path)) return;
    visiting.add(path);
    const depends = modinfoValue(await readElfFile(path), 'depends') ?? '';
    for (const name of depends.split(',').filter((n) => n !== '')) {
      const file = files.get(name.replaceAll('-', '_'));
      if (file) await visit(uncompressedModule(file, outDir));
    }
    if (!given.has(path)) ordered.push(path);
  };
  for (const module of modules) await visit(module);
  return ordered;
}
