/** Parsers for readelf -W tables, so tests can assert facts the way binutils sees them. */

export interface ReadelfRelocation {
  offset: bigint;
  /** Symbol index from r_info. */
  symbolIndex: number;
  type: string;
  /** "name + addend" / "name - addend" as readelf prints it (symbol value column dropped). */
  target: string;
}

/** `readelf -rW` output → relocation rows per relocation section name. */
export function parseRelocationListing(text: string): Map<string, ReadelfRelocation[]> {
  const sections = new Map<string, ReadelfRelocation[]>();
  let current: ReadelfRelocation[] | undefined;
  for (const line of text.split('\n')) {
    const header = /^Relocation section '([^']+)'/.exec(line);
    if (header) {
      current = [];
      sections.set(header[1]!, current);
      continue;
    }
    const row = /^([0-9a-f]{16})\s+([0-9a-f]{16})\s+(\S+)\s+(?:[0-9a-f]{16}\s+)?(.*)$/.exec(line);
    if (!row || !current) continue;
    current.push({
      offset: BigInt(`0x${row[1]}`),
      symbolIndex: Number(BigInt(`0x${row[2]}`) >> 32n),
      type: row[3]!,
      target: row[4]!.trim(),
    });
  }
  return sections;
}

export interface ReadelfSymbol {
  index: number;
  value: bigint;
  size: number;
  type: string;
  bind: string;
  visibility: string;
  ndx: string;
  name: string;
}

/** `readelf -sW` output → rows of the .symtab table. */
export function parseSymbolListing(text: string): ReadelfSymbol[] {
  const symbols: ReadelfSymbol[] = [];
  let inSymtab = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('Symbol table')) inSymtab = line.includes("'.symtab'");
    const row = /^\s*(\d+):\s+([0-9a-f]+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s?(.*)$/.exec(line);
    if (!inSymtab || !row) continue;
    symbols.push({
      index: Number(row[1]),
      value: BigInt(`0x${row[2]}`),
      size: Number(row[3]),
      type: row[4]!,
      bind: row[5]!,
      visibility: row[6]!,
      ndx: row[7]!,
      name: row[8]!,
    });
  }
  return symbols;
}

/** Relocation listings with the symbol index column dropped: what must survive any reindexing. */
export function relocationFacts(text: string): Map<string, string[]> {
  const facts = new Map<string, string[]>();
  for (const [name, rows] of parseRelocationListing(text)) {
    facts.set(
      name,
      rows.map((r) => `${r.offset.toString(16)} ${r.type} ${r.target}`),
    );
  }
  return facts;
}
