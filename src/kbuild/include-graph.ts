/**
 * Which configured objects can include a file, found from the text of #include lines instead of the
 * preprocessor: a first filter that over-approximates and must never miss an includer (test/e2e proves
 * it against kbuild's own dependency records). Every #include line counts whatever #if surrounds it, a
 * quoted name is looked up beside the includer and in every -I/-iquote/-isystem directory of the
 * object, and all matches count, not only the first. A computed include (`#include MACRO`) cannot be
 * read from the text: objects reaching one are reported as unknown, for the preprocessor to settle —
 * except the trace headers' `#include TRACE_INCLUDE(...)`, which re-includes the trace header that
 * included it, already in the closure.
 */
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { execa } from 'execa';
import { BuildError } from '../errors.js';
import { abortError } from '../source/abort.js';
import { normalizeTreePath } from './kbuild-cmd-file.js';
import { splitShellWords } from './shell-words.js';

export interface IncludeDirective {
  name: string;
  quoted: boolean;
}

export interface FileIncludes {
  includes: IncludeDirective[];
  /** Has a computed include other than the trace headers' re-include. */
  computed: boolean;
}

const INCLUDE_LINE = /^[ \t]*#[ \t]*include(?:_next)?[ \t]*([<"])([^>"\n]+)[>"]/gm;
const COMPUTED_INCLUDE = /^[ \t]*#[ \t]*include(?:_next)?[ \t]+([A-Za-z_]\w*)/gm;
const ASM_INCLUDE = /^[ \t]*\.include[ \t]+"([^"\n]+)"/gm;

/** The #include lines of a file (and an assembler file's .include lines). */
export function parseIncludes(text: string): FileIncludes {
  const includes: IncludeDirective[] = [];
  for (const m of text.matchAll(INCLUDE_LINE)) includes.push({ name: m[2]!.trim(), quoted: m[1] === '"' });
  for (const m of text.matchAll(ASM_INCLUDE)) includes.push({ name: m[1]!, quoted: true });
  let computed = false;
  for (const m of text.matchAll(COMPUTED_INCLUDE)) if (m[1] !== 'TRACE_INCLUDE') computed = true;
  return { includes, computed };
}

/** The include search of one compile command: its directories and forced includes (-include, -imacros). */
export interface IncludeContext {
  key: string;
  dirs: string[];
  forced: string[];
}

const DIR_FLAGS = ['-I', '-iquote', '-isystem', '-idirafter'];
const FILE_FLAGS = ['-include', '-imacros'];

/** Reads the include flags of a compile command; paths relative to the tree root. */
export function includeContextOf(command: string, root: string): IncludeContext {
  const words: string[] = [];
  for (const token of splitShellWords(command)) {
    // a command may hold more than one step (objtool, genksyms follow): the compile comes first
    if (token.kind === 'operator') break;
    if (token.kind === 'word') words.push(token.value);
  }
  const dirs: string[] = [];
  const forced: string[] = [];
  const tree = (path: string) => normalizeTreePath(path, root).replace(/^\.\//, '').replace(/\/$/, '') || '.';
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const dirFlag = DIR_FLAGS.find((f) => word === f || (word.startsWith(f) && f === '-I'));
    if (dirFlag) {
      const value = word === dirFlag ? words[++i] : word.slice(dirFlag.length);
      if (value) dirs.push(tree(value));
    } else if (FILE_FLAGS.includes(word) && words[i + 1]) forced.push(tree(words[++i]!));
  }
  return { key: `${dirs.join(':')}|${forced.join(':')}`, dirs, forced };
}

export interface ScannedObject {
  target: string;
  source: string;
  command: string;
}

/**
 * The tree's files (all of them: includes name .h, .c, .S, .lds.h, .inc...), relative. Directories no
 * compile reads (Documentation, .git, tools' own trees are kept: some kernel objects include tools/).
 */
export async function listTreeFiles(root: string, signal?: AbortSignal): Promise<Set<string>> {
  const result = await execa(
    'find',
    ['.', '(', '-name', '.git', '-o', '-name', 'Documentation', ')', '-prune', '-o', '-type', 'f', '-print0'],
    {
      cwd: root,
      reject: false,
      ...(signal ? { cancelSignal: signal } : {}),
    },
  );
  if (signal?.aborted) throw abortError(signal);
  if (result.failed && result.stdout === '')
    throw new BuildError(`cannot list ${root}: ${result.shortMessage}`);
  return new Set(
    result.stdout
      .split('\0')
      .filter((p) => p !== '')
      .map((p) => p.replace(/^\.\//, '')),
  );
}

export class IncludeScanner {
  private readonly parsed = new Map<string, Promise<FileIncludes>>();
  private readonly byBasename = new Map<string, string[]>();

  constructor(
    readonly root: string,
    readonly files: ReadonlySet<string>,
  ) {
    for (const file of files) {
      const base = posix.basename(file);
      const list = this.byBasename.get(base);
      if (list) list.push(file);
      else this.byBasename.set(base, [file]);
    }
  }

  /** The file's include lines, read once. */
  includesOf(file: string): Promise<FileIncludes> {
    let entry = this.parsed.get(file);
    if (!entry) {
      entry = readFile(posix.join(this.root, file), 'latin1').then(parseIncludes, () => ({
        includes: [],
        computed: false,
      }));
      this.parsed.set(file, entry);
    }
    return entry;
  }

  /** Every file an include line may name, from `includer` in `context`. */
  resolve(includer: string, directive: IncludeDirective, dirs: ReadonlySet<string>): string[] {
    const out: string[] = [];
    if (directive.quoted) {
      const beside = posix.normalize(posix.join(posix.dirname(includer), directive.name));
      if (this.files.has(beside)) out.push(beside);
    }
    const name = posix.normalize(directive.name);
    if (name.startsWith('../')) {
      // `#include "../drivers/thermal/x.h"` found through -I./include: joined with each directory
      for (const dir of dirs) {
        const joined = posix.normalize(posix.join(dir, name));
        if (this.files.has(joined) && !out.includes(joined)) out.push(joined);
      }
      return out;
    }
    for (const candidate of this.byBasename.get(posix.basename(name)) ?? []) {
      if (candidate === name ? dirs.has('.') : candidate.endsWith(`/${name}`)) {
        const dir = candidate === name ? '.' : candidate.slice(0, -name.length - 1);
        if (dirs.has(dir) && !out.includes(candidate)) out.push(candidate);
      }
    }
    return out;
  }
}

/** The include graph of the objects sharing one include context. */
interface ContextGraph {
  edges: Map<string, string[]>;
  computed: Set<string>;
  objects: ScannedObject[];
  roots: Map<string, string[]>;
}

export interface IncludeGraph {
  scanner: IncludeScanner;
  contexts: ContextGraph[];
  /** Distinct files read. */
  fileCount: number;
}

/** Reads the include lines reachable from every object's source and forced includes. */
export async function buildIncludeGraph(
  scanner: IncludeScanner,
  objects: readonly ScannedObject[],
  signal?: AbortSignal,
): Promise<IncludeGraph> {
  const groups = new Map<string, { context: IncludeContext; objects: ScannedObject[] }>();
  for (const object of objects) {
    const context = includeContextOf(object.command, scanner.root);
    const group = groups.get(context.key);
    if (group) group.objects.push(object);
    else groups.set(context.key, { context, objects: [object] });
  }
  const contexts: ContextGraph[] = [];
  for (const { context, objects: members } of groups.values()) {
    if (signal?.aborted) throw abortError(signal);
    const dirs = new Set(context.dirs);
    const graph: ContextGraph = { edges: new Map(), computed: new Set(), objects: members, roots: new Map() };
    let frontier: string[] = [];
    for (const object of members) {
      const roots = [object.source, ...context.forced].filter((f) => scanner.files.has(f));
      graph.roots.set(object.target, roots);
      frontier.push(...roots);
    }
    while (frontier.length > 0) {
      const fresh = [...new Set(frontier)].filter((f) => !graph.edges.has(f));
      for (const f of fresh) graph.edges.set(f, []);
      const parsed = await Promise.all(fresh.map((f) => scanner.includesOf(f)));
      frontier = [];
      fresh.forEach((file, i) => {
        const includes = parsed[i]!;
        if (includes.computed) graph.computed.add(file);
        const children = includes.includes.flatMap((d) => scanner.resolve(file, d, dirs));
        graph.edges.set(file, children);
        for (const child of children) if (!graph.edges.has(child)) frontier.push(child);
      });
    }
    contexts.push(graph);
  }
  const read = new Set<string>();
  for (const c of contexts) for (const f of c.edges.keys()) read.add(f);
  return { scanner, contexts, fileCount: read.size };
}

/** Files of one context graph from which a file of `targets` can be reached (targets included). */
function reaching(graph: ContextGraph, targets: (file: string) => boolean): Set<string> {
  const reverse = new Map<string, string[]>();
  const found = new Set<string>();
  for (const [from, children] of graph.edges) {
    if (targets(from)) found.add(from);
    for (const child of children) {
      const list = reverse.get(child);
      if (list) list.push(from);
      else reverse.set(child, [from]);
    }
  }
  const queue = [...found];
  while (queue.length > 0) {
    for (const parent of reverse.get(queue.pop()!) ?? []) {
      if (!found.has(parent)) {
        found.add(parent);
        queue.push(parent);
      }
    }
  }
  return found;
}

export interface Includers {
  /** Objects whose includes reach one of the files. */
  objects: ScannedObject[];
  /** Objects that reach a computed include: the text cannot tell; the preprocessor must. */
  unknown: ScannedObject[];
}

/** The objects that may include (directly or not) a file that `targets` accepts. */
export function findIncluders(graph: IncludeGraph, targets: (file: string) => boolean): Includers {
  const objects: ScannedObject[] = [];
  const unknown: ScannedObject[] = [];
  for (const context of graph.contexts) {
    const reach = reaching(context, targets);
    const computed =
      context.computed.size > 0 ? reaching(context, (f) => context.computed.has(f)) : new Set();
    for (const object of context.objects) {
      const roots = context.roots.get(object.target) ?? [];
      if (roots.some((r) => reach.has(r))) objects.push(object);
      else if (roots.some((r) => computed.has(r))) unknown.push(object);
    }
  }
  return { objects, unknown };
}

/** Every file an object may read (its source, forced includes and their include closure). */
export function closureOf(graph: IncludeGraph, target: string): Set<string> {
  for (const context of graph.contexts) {
    const roots = context.roots.get(target);
    if (!roots) continue;
    const seen = new Set<string>(roots);
    const queue = [...roots];
    while (queue.length > 0) {
      for (const child of context.edges.get(queue.pop()!) ?? []) {
        if (!seen.has(child)) {
          seen.add(child);
          queue.push(child);
        }
      }
    }
    return seen;
  }
  return new Set();
}
