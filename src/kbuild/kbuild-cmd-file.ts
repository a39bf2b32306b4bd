/**
 * Reads one of kbuild's `.<target>.cmd` files: the command that last built the target, its source file
 * and its dependency list (written by scripts/basic/fixdep). Linux 6.3+ names the command variable
 * `savedcmd_<target>`, older kernels `cmd_<target>`; both are accepted.
 */
import { isAbsolute, posix, relative } from 'node:path';

export interface KbuildCmdFile {
  /** The target as kbuild names it, relative to the build root, e.g. "fs/proc/cmdline.o". */
  target: string;
  /** The shell command, with make's escaping ($$, \#) undone. */
  command: string;
  /** `source_<target>`, for objects compiled from one source file. */
  source: string | undefined;
  /** Real dependencies (headers, the source itself is in `source`). */
  deps: string[];
  /** `$(wildcard include/config/...)` entries: config switches, not files the target was built from. */
  configDeps: string[];
}

/** make stores `$` as `$$` and `#` as `\#` in .cmd files (scripts/Kbuild.include, make-cmd). */
export function unescapeMakeCommand(text: string): string {
  return text.replaceAll('$$', '$').replaceAll('\\#', '#');
}

/** Makes a path from a .cmd file relative to `root` (kbuild writes relative paths, O= builds absolute ones). */
export function normalizeTreePath(path: string, root?: string): string {
  // Fast path: fixdep writes plain relative paths, and there are hundreds of thousands of them.
  if (path[0] !== '/' && path[0] !== '.' && !path.includes('/.') && !path.includes('//')) return path;
  if (isAbsolute(path)) {
    if (root === undefined) return posix.normalize(path);
    const rel = relative(root, path);
    return rel.startsWith('..') ? posix.normalize(path) : rel.split('\\').join('/');
  }
  return posix.normalize(path);
}

/** Parses a .cmd file's text; undefined when it records no command (not a kbuild .cmd file). */
export function parseKbuildCmdFile(text: string, root?: string): KbuildCmdFile | undefined {
  let target: string | undefined;
  let command: string | undefined;
  let source: string | undefined;
  const deps: string[] = [];
  const configDeps: string[] = [];
  let inDeps = false;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end);
    pos = end + 1;
    if (inDeps) {
      // "  include/linux/fs.h \" or "    $(wildcard include/config/SMP) \"; the list ends at a line without "\".
      const continued = line.endsWith('\\');
      const entry = (continued ? line.slice(0, -1) : line).trim();
      if (entry.startsWith('$(wildcard ')) configDeps.push(entry.slice(11, -1));
      else if (entry !== '') deps.push(normalizeTreePath(entry, root));
      if (!continued) inDeps = false;
      continue;
    }
    const assign = line.indexOf(' := ');
    if (assign < 0) continue;
    const name = line.slice(0, assign);
    const value = line.slice(assign + 4);
    if (name.startsWith('savedcmd_') || (name.startsWith('cmd_') && command === undefined)) {
      target = name.slice(name.indexOf('_') + 1);
      command = unescapeMakeCommand(value);
    } else if (name.startsWith('source_')) {
      source = normalizeTreePath(value.trim(), root);
    } else if (name.startsWith('deps_')) {
      const rest = value.trim();
      if (rest === '\\') inDeps = true;
      else if (rest !== '') deps.push(...rest.split(/\s+/).map((p) => normalizeTreePath(p, root)));
    }
  }
  if (target === undefined || command === undefined) return undefined;
  return { target: normalizeTreePath(target, root), command, source, deps, configDeps };
}

/** The .cmd file kbuild writes for `target` ("fs/proc/cmdline.o" -> "fs/proc/.cmdline.o.cmd"). */
export function cmdFilePathFor(target: string): string {
  const dir = posix.dirname(target);
  const name = `.${posix.basename(target)}.cmd`;
  return dir === '.' ? name : `${dir}/${name}`;
}
