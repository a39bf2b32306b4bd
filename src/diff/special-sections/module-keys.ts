import type { KeptEntry, SpecialTableContext } from './types.js';

/**
 * The name of the key an entry refers to at `keyOffset`, when that key lives in the module being
 * patched (defined by the object, or by the parent module) rather than in vmlinux.
 */
export function keyLivesInModule(
  entry: KeptEntry,
  keyOffset: number,
  context: SpecialTableContext,
): string | undefined {
  if (context.parent === 'vmlinux') return undefined;
  const relocation = entry.relocations.find((r) => Number(r.offset) - entry.offset === keyOffset);
  const symbol = relocation?.symbol;
  if (!symbol) return undefined;
  const name = symbol.name || symbol.section?.name || '(unnamed)';
  return symbol.section !== undefined || context.parentDefines(name) ? name : undefined;
}
