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

/** Same-named symbols of one object, each list in the order the kernel counts positions in. */
export class ObjectSymbols {
  readonly object: string;
  private readonly byName = new Map<string, ObjectSymbol[]>();

  constructor(object: string, symbols: Iterable<ObjectSymbol>) {
    this.object = object;
    for (const symbol of symbols) {
      const list = this.byName.get(symbol.name);
      if (list) list.push(symbol);
      else this.byName.set(symbol.name, [symbol]);
    }
  }

  candidates(name: string): readonly ObjectSymbol[] {
    return this.byName.get(name) ?? [];
  }

  has(name: string): boolean {
    return this.byName.has(name);
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
