import { execa } from 'execa';

export interface SectionRow {
  index: number;
  name: string;
  type: string;
  size: number;
  entsize: number;
  flags: string;
  link: number;
  info: number;
  align: number;
}

export interface SymbolRow {
  index: number;
  value: bigint;
  size: number;
  type: string;
  bind: string;
  ndx: string;
  name: string;
}

export interface RelocationRow {
  offset: bigint;
  type: string;
  symbol: string;
  addend: string;
}

export async function readelf(path: string, args: readonly string[]): Promise<string> {
  const { stdout } = await execa('readelf', ['-W', ...args, path]);
  return stdout;
}

/** `readelf -SW`, by section name. */
export async function sectionTable(path: string): Promise<Map<string, SectionRow>> {
  const rows = new Map<string, SectionRow>();
  for (const line of (await readelf(path, ['-S'])).split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s+(\S+)\s+(.*)$/.exec(line);
    if (!m || m[2] === 'Name') continue;
    const t = m[3]!.trim().split(/\s+/);
    const tail = t.slice(5);
    const [flags, link, info, align] = tail.length === 4 ? tail : ['', ...tail];
    rows.set(m[2]!, {
      index: Number(m[1]),
      name: m[2]!,
      type: t[0]!,
      size: Number.parseInt(t[3]!, 16),
      entsize: Number.parseInt(t[4]!, 16),
      flags: flags!,
      link: Number(link),
      info: Number(info),
      align: Number(align),
    });
  }
  return rows;
}

/** `readelf -sW` rows of .symtab. */
export async function symbolTable(path: string): Promise<SymbolRow[]> {
  const rows: SymbolRow[] = [];
  for (const line of (await readelf(path, ['-s'])).split('\n')) {
    const m =
      /^\s*(\d+): ([0-9a-f]+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(OS \[0x[0-9a-f]+\]|\S+)\s?(.*)$/.exec(line);
    if (!m) continue;
    rows.push({
      index: Number(m[1]),
      value: BigInt(`0x${m[2]}`),
      size: Number(m[3]),
      type: m[4]!,
      bind: m[5]!,
      ndx: m[7]!,
      name: m[8]!,
    });
  }
  return rows;
}

/** `readelf -rW`, by relocation section name. */
export async function relocationTable(path: string): Promise<Map<string, RelocationRow[]>> {
  const sections = new Map<string, RelocationRow[]>();
  let current: RelocationRow[] | undefined;
  for (const line of (await readelf(path, ['-r'])).split('\n')) {
    const head = /^Relocation section '([^']+)'/.exec(line);
    if (head) {
      current = [];
      sections.set(head[1]!, current);
      continue;
    }
    const m = /^([0-9a-f]{16})\s+[0-9a-f]{16}\s+(\S+)\s+[0-9a-f]{16}\s+(.*?)\s+([+-] [0-9a-f]+)$/.exec(line);
    if (m && current)
      current.push({ offset: BigInt(`0x${m[1]}`), type: m[2]!, symbol: m[3]!, addend: m[4]! });
  }
  return sections;
}

/** `readelf -p <section>` strings. */
export async function sectionStrings(path: string, section: string): Promise<string[]> {
  const out = await readelf(path, ['-p', section]);
  return [...out.matchAll(/^\s*\[\s*[0-9a-f]+\]\s+(.*)$/gm)].map((m) => m[1]!);
}
