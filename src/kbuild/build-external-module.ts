import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import { runMake } from './run-make.js';
import type { Toolchain } from './toolchain.js';

export interface ExternalModuleBuild {
  /** Directory with the module's sources and Kbuild/Makefile; copied, never built in place. */
  sourceDir: string;
  /** Where the copy is built; emptied first. */
  workDir: string;
  /** The target: its headers (or tree) the module is built against (TargetKernel fits). */
  target: { buildDir: string };
  /** Extra make variables, e.g. KBUILD_MODPOST_WARN=1. */
  makeVars?: Record<string, string>;
  signal?: AbortSignal;
  /** The target's make (Toolchain.make, e.g. inside a build root); default: the host's. */
  make?: Toolchain['make'];
}

/** Builds an out-of-tree module against the target's headers (`make -C <buildDir> M=<dir> modules`). */
export async function buildExternalModule(build: ExternalModuleBuild): Promise<string[]> {
  await rm(build.workDir, { recursive: true, force: true });
  await mkdir(build.workDir, { recursive: true });
  await cp(build.sourceDir, build.workDir, { recursive: true });
  const vars = Object.entries(build.makeVars ?? {}).map(([k, v]) => `${k}=${v}`);
  await (build.make ?? runMake)({
    dir: build.target.buildDir,
    args: [`M=${build.workDir}`, ...vars, 'modules'],
    logFile: join(build.workDir, 'build.log'),
    what: `module in ${build.sourceDir}`,
    ...(build.signal ? { signal: build.signal } : {}),
  });
  const modules = (await readdir(build.workDir))
    .filter((f) => f.endsWith('.ko'))
    .map((f) => join(build.workDir, f));
  if (modules.length === 0) throw new BuildError(`building ${build.sourceDir} produced no .ko file`);
  return modules;
}
