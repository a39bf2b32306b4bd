/** A symbol of a target object (vmlinux or a module) as the livepatch loader will see it. */
export interface ObjectSymbol {
  name: string;
  address?: bigint;
  type?: string;
  /** Source file, where the symbol table tells (STT_FILE). */
  file?: string;
}

export type SymposResult =
  | { ok: true; sympos: number; count: number }
  | { ok: false; reason: 'missing' | 'ambiguous' | 'out-of-range'; candidates: ObjectSymbol[] };

/** Looks up the same-named symbols of an object, in the order the kernel counts positions in. */
export type SymbolLookup = (name: string) => readonly ObjectSymbol[];

/**
 * Same-named symbols of one object, each list in the order the kernel counts positions in. Built from a
 * list of symbols, or backed by a lookup function (e.g. a SymbolIndex read from the cache) so a big
 * symbol table never has to become one Map; looked-up answers are remembered.
 */
export class ObjectSymbols {
  readonly object: string;
  private readonly byName = new Map<string, ObjectSymbol[]>();
  private readonly lookup: SymbolLookup | undefined;

  constructor(object: string, symbols: Iterable<ObjectSymbol> | SymbolLookup) {
    this.object = object;
    if (typeof symbols === 'function') {
      this.lookup = symbols;
      return;
    }
    this.lookup = undefined;
    for (const symbol of symbols) {
      const list = this.byName.get(symbol.name);
      if (list) list.push(symbol);
      else this.byName.set(symbol.name, [symbol]);
    }
  }

  candidates(name: string): readonly ObjectSymbol[] {
    const known = this.byName.get(name);
    if (known || !this.lookup) return known ?? [];
    const found = [...this.lookup(name)];
    this.byName.set(name, found);
    return found;
  }

  has(name: string): boolean {
    return this.candidates(name).length > 0;
  }
}

/**
 * Decides the sympos for `name` the way kernel/livepatch/core.c will check it: 0 is accepted only when
 * the name is unique in the object; N (1-based) must not exceed the number of same-named symbols.
 */
export function resolveSympos(table: ObjectSymbols, name: string, requested = 0): SymposResult {
  const candidates = [...table.candidates(name)];
  if (candidates.length === 0) return { ok: false, reason: 'missing', candidates };
  if (requested === 0) {
    return candidates.length === 1
      ? { ok: true, sympos: 0, count: 1 }
      : { ok: false, reason: 'ambiguous', candidates };
  }
  if (requested > candidates.length) return { ok: false, reason: 'out-of-range', candidates };
  return { ok: true, sympos: requested, count: candidates.length };
}
