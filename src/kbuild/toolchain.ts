/**
 * The one way the pipeline runs make and the compiler for a target. The default runs them on the host; a
 * build root (a chroot of the target's suite) supplies its own toolchain that wraps the same two calls,
 * so every make (prepare, single objects, --full-build, the livepatch module) and every recompile of an
 * object goes through it and nothing else changes.
 */
import type { CompiledObject, CompileObjectOptions } from './compile-object.js';
import { compileObject } from './compile-object.js';
import type { RunMakeOptions } from './run-make.js';
import { runMake } from './run-make.js';

export interface Toolchain {
  /** Where the commands run, for messages: "host", or the build root's name. */
  readonly name: string;
  /** Runs make (see runMake). */
  make(options: RunMakeOptions): Promise<void>;
  /** Recompiles one object as kbuild recorded it, with function sections (see compileObject). */
  compile(options: CompileObjectOptions): Promise<CompiledObject>;
}

/** make and the compiler of this machine. */
export const hostToolchain: Toolchain = { name: 'host', make: runMake, compile: compileObject };
