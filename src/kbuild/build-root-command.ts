/**
 * Runs a command inside a build root: a private mount namespace (`unshare --mount`, propagation
 * private, so every mount vanishes with the command, even when it is killed), the host directories the
 * build reads and writes bind-mounted at the same paths inside the root (kbuild's recorded commands and
 * M= paths stay valid verbatim), /proc mounted, then `chroot` and `cd`. Measured on a 2-core machine:
 * entering costs about 20 ms more per command than running it on the host.
 *
 * Why not put the trees inside the root: the prepared source, the work directories and the cache are
 * shared with host-compiler runs and other suites' roots; binding them keeps one copy and one layout.
 */
import { resolve, sep } from 'node:path';
import type { ToolCommand } from './tool-command.js';

/** A build root as entered: its file system and the host directories visible inside. */
export interface BuildRootEntry {
  /** The root file system (an mmdebstrap tree). */
  root: string;
  /** Host directories bind-mounted at the same path inside (the cwd is always added). */
  binds: readonly string[];
}

// $1 root, $2 cwd, then bind directories up to "--", then the command. Any failing mount stops it.
const ENTER_SCRIPT = [
  'set -e',
  'root=$1; cwd=$2; shift 2',
  'while [ "$1" != -- ]; do mkdir -p "$root$1"; mount --rbind "$1" "$root$1"; shift; done',
  'shift',
  'mount -t proc proc "$root/proc"',
  'exec chroot "$root" /bin/sh -c \'cd "$0" && exec "$@"\' "$cwd" "$@"',
].join('\n');

/** True when `path` is `dir` or inside it. */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);
}

/** The directories to bind: absolute, deduplicated, none inside another (the outer one covers it). */
export function bindSet(paths: readonly string[]): string[] {
  const absolute = [...new Set(paths.map((p) => resolve(p)))].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const path of absolute) {
    if (path === '/') throw new Error('refusing to bind-mount / into a build root');
    if (!kept.some((outer) => isWithin(path, outer))) kept.push(path);
  }
  return kept;
}

/** The command to run instead of `command` so that it runs inside the build root. */
export function buildRootCommand(entry: BuildRootEntry, command: ToolCommand): ToolCommand {
  const cwd = resolve(command.cwd ?? process.cwd());
  const binds = bindSet([...entry.binds, cwd]);
  return {
    file: 'unshare',
    args: [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      ENTER_SCRIPT,
      'kpatch-build-root',
      entry.root,
      cwd,
      ...binds,
      '--',
      command.file,
      ...command.args,
    ],
  };
}
