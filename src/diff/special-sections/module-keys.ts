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
  // A per-site static (the key inside a pr_debug descriptor) is copied: it lives in the livepatch itself.
  if (entry.object.symbolOf.get(symbol)?.specialStatic) return undefined;
  const name = symbol.name || symbol.section?.name || '(unnamed)';
  return symbol.section !== undefined || context.parentDefines(name) ? name : undefined;
}
