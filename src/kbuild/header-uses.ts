/**
 * Which includers of a changed header can compile differently. A header's code reaches an object only
 * through names: the changed items define some names (a function, a macro, a type); an object's code can
 * change only if a file it reads uses one of them, or uses an on-demand item that mentions one (an
 * inline calling a changed inline, a macro expanding to it), and so on to a fixed point. Mentions in
 * preprocessor conditionals and in items that are emitted anyway count as uses. Anything the scanner
 * cannot vouch for — an item whose names it cannot read, an emitted-anyway item, a changed #include or
 * #undef — makes the change unprunable: every includer is compiled. Including too much is safe;
 * test/e2e compares against compiled objects to show nothing whose code changes is dropped.
 */
import type { TopLevel, TopLevelItem } from './c-top-level.js';
import { scanTopLevel } from './c-top-level.js';

export interface HeaderChange {
  /** Names the changed items define. */
  names: Set<string>;
  /** Why every includer must be compiled, when it must. */
  unprunable?: string;
}

const itemKey = (item: TopLevelItem) => `${item.context}\n${item.text}`;

function multisetDifference(a: readonly string[], b: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const key of b) counts.set(key, (counts.get(key) ?? 0) + 1);
  const out: string[] = [];
  for (const key of a) {
    const n = counts.get(key) ?? 0;
    if (n > 0) counts.set(key, n - 1);
    else out.push(key);
  }
  return out;
}

/** What changed between two versions of a header, as names. */
export function describeHeaderChange(original: string, patched: string): HeaderChange {
  const before = scanTopLevel(original);
  const after = scanTopLevel(patched);
  const changedDirectives = [
    ...multisetDifference(before.directives, after.directives),
    ...multisetDifference(after.directives, before.directives),
  ];
  if (changedDirectives.length > 0) {
    return { names: new Set(), unprunable: `it changes a directive: ${changedDirectives[0]!.trim()}` };
  }
  const removed = new Set(multisetDifference(before.items.map(itemKey), after.items.map(itemKey)));
  const added = new Set(multisetDifference(after.items.map(itemKey), before.items.map(itemKey)));
  const changed = [
    ...before.items.filter((i) => removed.has(itemKey(i))),
    ...after.items.filter((i) => added.has(itemKey(i))),
  ];
  const names = new Set<string>();
  for (const item of changed) {
    if (!item.names) return { names, unprunable: `cannot tell what it defines: ${item.text.slice(0, 60)}` };
    if (!item.onDemand)
      return { names, unprunable: `its code is emitted by every includer: ${item.text.slice(0, 60)}` };
    for (const name of item.names) names.add(name);
  }
  return { names };
}

const isHeader = (file: string) => file.endsWith('.h');

function mentionsAny(text: string, names: ReadonlySet<string>): boolean {
  if (names.size === 0) return false;
  const pattern = new RegExp(`\\b(?:${[...names].join('|')})\\b`);
  return pattern.test(text);
}

export interface FindUsesOptions {
  /** The files to consider: every file an includer may read. */
  files: Iterable<string>;
  readText: (file: string) => Promise<string>;
  /** The changed header, in its patched form, is read through this too. */
  signal?: AbortSignal;
}

export interface Uses {
  /** The changed names and every on-demand item name that reaches one. */
  names: Set<string>;
  /** Files whose own code or conditionals use one of them. */
  files: Set<string>;
  /** Set when the names grew past MAX_NAMES: the change reaches too much to prune; compile every includer. */
  tooWide?: string;
}

/**
 * Past this many names (a changed struct everything embeds, READ_ONCE), pruning would keep nearly every
 * includer anyway and the search only costs time: it stops and every includer is compiled.
 */
export const MAX_NAMES = 400;

/**
 * Closes the changed names over on-demand header items that mention them, then lists the files that
 * use any: a source file mentioning one, a header mentioning one in a conditional or in an item that is
 * not on demand (or whose names cannot be read).
 */
export async function findUses(changed: ReadonlySet<string>, options: FindUsesOptions): Promise<Uses> {
  const names = new Set(changed);
  const files = [...options.files];
  const headers = files.filter(isHeader);
  const scanned = new Map<string, TopLevel>();
  const texts = new Map<string, string>();
  const textOf = async (file: string) => {
    let text = texts.get(file);
    if (text === undefined) {
      text = await options.readText(file);
      texts.set(file, text);
    }
    return text;
  };
  const topLevelOf = async (file: string) => {
    let top = scanned.get(file);
    if (!top) {
      top = scanTopLevel(await textOf(file));
      scanned.set(file, top);
    }
    return top;
  };
  let fresh = new Set(names);
  const usingHeaders = new Set<string>();
  while (fresh.size > 0) {
    const next = new Set<string>();
    for (const file of headers) {
      if (!mentionsAny(await textOf(file), fresh)) continue;
      const top = await topLevelOf(file);
      if ([...top.directiveMentions].some((m) => fresh.has(m))) usingHeaders.add(file);
      for (const item of top.items) {
        if (![...item.mentions].some((m) => fresh.has(m))) continue;
        if (!item.names || !item.onDemand) usingHeaders.add(file);
        else for (const name of item.names) if (!names.has(name)) next.add(name);
      }
    }
    for (const name of next) names.add(name);
    fresh = next;
    if (names.size > MAX_NAMES) {
      return {
        names,
        files: new Set(),
        tooWide: `it reaches more than ${MAX_NAMES} inline functions, macros and types`,
      };
    }
  }
  texts.clear();
  const using = new Set(usingHeaders);
  for (const file of files) {
    if (isHeader(file)) continue;
    if (options.signal?.aborted) break;
    if (mentionsAny(await options.readText(file), names)) using.add(file);
  }
  return { names, files: using };
}
