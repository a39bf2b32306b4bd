/**
 * The vmlinux functions a Debian kernel seals at boot (IBT: their ENDBR is overwritten, so an indirect
 * branch to them is a #CP crash): read once per release from a debug-alternative boot of its image and
 * cached beside its kallsyms. Kernels without CONFIG_X86_KERNEL_IBT seal nothing (no boot).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { withLock } from '../source/lock.js';
import { dumpSealedFunctions } from '../verify/dump-sealed-functions.js';
import type { SymbolSource, TargetKernel } from './target.js';

const hasIbt = (config: string) => /^CONFIG_X86_KERNEL_IBT=y$/m.test(config);

async function readSealed(file: string): Promise<Set<string> | undefined> {
  const names = JSON.parse(await readFile(file, 'utf8').catch(() => 'null')) as string[] | null;
  return Array.isArray(names) ? new Set(names) : undefined;
}

/** undefined when the kernel has no IBT (nothing sealed); else the sealed names, cached. */
export async function debianSealedFunctions(
  target: Pick<TargetKernel, 'config' | 'image'> & { symbols: Pick<SymbolSource, 'path'> },
  options: { signal?: AbortSignal; onProgress?: (message: string) => void } = {},
): Promise<Set<string> | undefined> {
  if (!hasIbt(await readFile(target.config, 'utf8'))) return undefined;
  const dir = dirname(target.symbols.path);
  const file = join(dir, 'sealed.json');
  const cached = await readSealed(file);
  if (cached) return cached;
  return withLock(
    join(dir, '.sealed.lock'),
    async () => {
      const again = await readSealed(file);
      if (again) return again;
      options.onProgress?.('reading the functions the kernel seals at boot (IBT) in a VM');
      const names = (await dumpSealedFunctions({ kernel: target.image })).map((f) => f.name);
      // Written whole, then renamed: a killed run leaves no half list.
      await writeFile(`${file}.tmp`, JSON.stringify(names));
      await rename(`${file}.tmp`, file);
      return new Set(names);
    },
    options.signal ? { signal: options.signal } : {},
  );
}
