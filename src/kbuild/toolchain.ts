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
import type { ToolCommand, WrapCommand } from './tool-command.js';

export interface Toolchain {
  /** Where the commands run, for messages: "host", or the build root's name. */
  readonly name: string;
  /** Runs make (see runMake). */
  make(options: RunMakeOptions): Promise<void>;
  /** Recompiles one object as kbuild recorded it, with function sections (see compileObject). */
  compile(options: CompileObjectOptions): Promise<CompiledObject>;
  /**
   * Any other command that must meet the target's compiler (the compiler check, the struct-size probe):
   * unchanged on the host, rewritten to enter the build root otherwise.
   */
  command(command: ToolCommand): ToolCommand;
  /**
   * Compiles that can run at once beyond this machine's cores: distcc's job slots over its hosts. The
   * affected objects are compiled this many at a time when it exceeds -j.
   */
  readonly compileSlots?: number;
}

/** make and the compiler of this machine. */
export const hostToolchain: Toolchain = {
  name: 'host',
  make: runMake,
  compile: compileObject,
  command: (command) => command,
};

/** A toolchain whose every command (make, compile, probes) is rewritten by `wrap`. */
export function wrappedToolchain(name: string, wrap: WrapCommand): Toolchain {
  return {
    name,
    make: (options) => runMake({ ...options, wrap }),
    compile: (options) => compileObject({ ...options, wrap }),
    command: wrap,
  };
}
