/**
 * From changed headers to the objects worth compiling twice: the includers (from kbuild's records of a
 * built tree, or from the include graph of a prepared one), less those that use nothing the change
 * defines (header-uses.ts). The counts are kept for the log and the JSON report.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeHeaderChange, findUses } from './header-uses.js';
import type { IncludeGraph } from './include-graph.js';
import { closureOf, findIncluders } from './include-graph.js';
import type { KbuildIndex } from './kbuild-index.js';

/** Who reads what: kbuild's records, or the include graph. */
export interface IncluderIndex {
  /**
   * Objects that (may) read a file `test` accepts, and those whose includes cannot be read from the
   * text (computed includes): for those the preprocessor decides.
   */
  includers(test: (file: string) => boolean): { objects: string[]; unknown: string[] };
  /** Every file the objects read. */
  filesOf(targets: readonly string[]): Set<string>;
}

/** kbuild's dependency records of a built tree: exact. */
export function kbuildIncluderIndex(index: KbuildIndex): IncluderIndex {
  return {
    includers(test) {
      const out = new Set<string>();
      for (const [file, objects] of index.dependents) if (test(file)) for (const o of objects) out.add(o);
      return { objects: [...out], unknown: [] };
    },
    filesOf(targets) {
      const wanted = new Set(targets);
      const files = new Set<string>();
      for (const [file, objects] of index.dependents) if (objects.some((o) => wanted.has(o))) files.add(file);
      return files;
    },
  };
}

/** The include graph of a prepared tree: a superset of the real includes. */
export function textualIncluderIndex(graph: IncludeGraph): IncluderIndex {
  return {
    includers(test) {
      const found = findIncluders(graph, test);
      return { objects: found.objects.map((o) => o.target), unknown: found.unknown.map((o) => o.target) };
    },
    filesOf(targets) {
      const files = new Set<string>();
      for (const target of targets) for (const file of closureOf(graph, target)) files.add(file);
      return files;
    },
  };
}

export interface ChangedHeader {
  path: string;
  original: string;
  /** Undefined when the patched text could not be made apart from the tree. */
  patched: string | undefined;
}

export interface HeaderImpact {
  headers: string[];
  /** Objects that include a changed header. */
  includers: string[];
  /** Objects reaching a computed include, which the text cannot follow: for the preprocessor to settle. */
  unknown: string[];
  /** Those whose code can change: to be compiled. */
  kept: string[];
  /** Names the changes define, and the on-demand names that reach them. */
  names: string[];
  /** Why nothing was pruned, when nothing could be. */
  unprunable?: string;
}

export async function assessHeaderChanges(
  tree: string,
  changes: readonly ChangedHeader[],
  index: IncluderIndex,
  signal?: AbortSignal,
): Promise<HeaderImpact> {
  const paths = new Set(changes.map((c) => c.path));
  const found = index.includers((file) => paths.has(file));
  const includers = found.objects.sort();
  const unknown = found.unknown;
  const headers = [...paths];
  const names = new Set<string>();
  for (const change of changes) {
    const described =
      change.patched === undefined
        ? { names: new Set<string>(), unprunable: 'its patched text could not be made apart from the tree' }
        : describeHeaderChange(change.original, change.patched);
    if (described.unprunable) {
      return {
        headers,
        includers,
        unknown,
        kept: includers,
        names: [],
        unprunable: `${change.path}: ${described.unprunable}`,
      };
    }
    for (const name of described.names) names.add(name);
  }
  if (names.size === 0) return { headers, includers, unknown, kept: [], names: [] };
  const patched = new Map(changes.map((c) => [c.path, c.patched!]));
  const uses = await findUses(names, {
    files: index.filesOf(includers),
    readText: async (file) =>
      patched.get(file) ?? (await readFile(join(tree, file), 'latin1').catch(() => '')),
    ...(signal ? { signal } : {}),
  });
  if (uses.tooWide)
    return { headers, includers, unknown, kept: includers, names: [], unprunable: uses.tooWide };
  const using = new Set(index.includers((file) => uses.files.has(file)).objects);
  return {
    headers,
    includers,
    unknown,
    kept: includers.filter((o) => using.has(o)),
    names: [...uses.names].sort(),
  };
}
