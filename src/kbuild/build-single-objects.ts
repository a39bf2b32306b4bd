/**
 * Compiles individual objects in a prepared (not built) kernel tree with kbuild's single-target support:
 * `make fs/proc/cmdline.o mm/memory.o`. kbuild builds them with the tree's real flags and writes their
 * `.cmd` records, which kbuild-cmd-file.ts parses and compileObject re-runs with function sections.
 *
 * objtool: Debian's config has OBJTOOL + UNWINDER_ORC and no X86_KERNEL_IBT/LTO, so kbuild runs objtool
 * on each object right after compiling it (cmd_cc_o_c ends in `; ./tools/objtool/objtool … --orc …
 * <obj>`), not on vmlinux.o. `make prepare` builds tools/objtool, so single objects get their ORC tables
 * exactly as in Debian's build (__mcount_loc comes from gcc's -mrecord-mcount: FTRACE_MCOUNT_USE_CC),
 * and the recorded command includes the objtool step for compileObject to repeat.
 */
import { access } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import { BuildError } from '../errors.js';
import type { Toolchain } from './build-root-command.js';
import { runMake } from './run-make.js';

export interface BuildSingleObjectsOptions {
  signal?: AbortSignal;
  /** make's output is appended here; named in errors. */
  logFile: string;
  /** make -j; default: one job per object, at most 8. */
  jobs?: number;
  onCommand?: (command: string) => void;
  /** make runs inside this build root (the target's compiler). */
  toolchain?: Toolchain;
}

/** Checks and normalizes an object path relative to the tree ("./fs/proc/cmdline.o" → "fs/proc/cmdline.o"). */
export function singleObjectTarget(object: string): string {
  const path = posix.normalize(object.replaceAll('\\', '/'));
  if (isAbsolute(path) || path.startsWith('../') || path === '..' || !/\.o$/.test(path) || /\s/.test(path)) {
    throw new BuildError(`"${object}" is not an object path inside the kernel tree`, {
      hint: 'name objects relative to the tree root, e.g. fs/proc/cmdline.o',
    });
  }
  return path;
}

/** The .cmd file kbuild writes for a single object ("fs/proc/cmdline.o" → "fs/proc/.cmdline.o.cmd"). */
export function cmdFileOf(target: string): string {
  const dir = posix.dirname(target);
  return `${dir === '.' ? '' : `${dir}/`}.${posix.basename(target)}.cmd`;
}

/** Builds `objects` in `tree` (prepared with make prepare); returns their absolute paths, in order. */
export async function buildSingleObjects(
  tree: string,
  objects: string[],
  options: BuildSingleObjectsOptions,
): Promise<string[]> {
  const targets = objects.map(singleObjectTarget);
  if (targets.length === 0) return [];
  const jobs = options.jobs ?? Math.min(targets.length, 8);
  await runMake({
    dir: tree,
    args: [`-j${jobs}`, ...targets],
    logFile: options.logFile,
    what: `objects ${targets.join(', ')}`,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onCommand ? { onCommand: options.onCommand } : {}),
    ...(options.toolchain ? { toolchain: options.toolchain } : {}),
  });
  const outputs = targets.map((t) => join(tree, t));
  for (const [i, output] of outputs.entries()) {
    const ok = await access(output).then(
      () => true,
      () => false,
    );
    if (!ok) {
      throw new BuildError(`make ${targets[i]} succeeded but did not produce ${output}`, {
        hint: 'the object is not built for this config (check its Makefile and CONFIG_ options)',
        logPath: options.logFile,
      });
    }
  }
  return outputs;
}
