import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TargetKernel } from '../distro/target.js';
import { BuildError } from '../errors.js';
import type { Toolchain } from './build-root-command.js';
import { runMake } from './run-make.js';

export interface ExternalModuleBuild {
  /** Directory with the module's sources and Kbuild/Makefile; copied, never built in place. */
  sourceDir: string;
  /** Where the copy is built; emptied first. */
  workDir: string;
  target: TargetKernel;
  /** Extra make variables, e.g. KBUILD_MODPOST_WARN=1. */
  makeVars?: Record<string, string>;
  signal?: AbortSignal;
  /** Build inside a build root (the target's compiler); workDir is bound into it. */
  toolchain?: Toolchain;
}

/** Builds an out-of-tree module against the target's headers (`make -C <buildDir> M=<dir> modules`). */
export async function buildExternalModule(build: ExternalModuleBuild): Promise<string[]> {
  await rm(build.workDir, { recursive: true, force: true });
  await mkdir(build.workDir, { recursive: true });
  await cp(build.sourceDir, build.workDir, { recursive: true });
  const vars = Object.entries(build.makeVars ?? {}).map(([k, v]) => `${k}=${v}`);
  await runMake({
    dir: build.target.buildDir,
    args: [`M=${build.workDir}`, ...vars, 'modules'],
    logFile: join(build.workDir, 'build.log'),
    what: `module in ${build.sourceDir}`,
    ...(build.signal ? { signal: build.signal } : {}),
    ...(build.toolchain ? { toolchain: build.toolchain } : {}),
  });
  const modules = (await readdir(build.workDir))
    .filter((f) => f.endsWith('.ko'))
    .map((f) => join(build.workDir, f));
  if (modules.length === 0) throw new BuildError(`building ${build.sourceDir} produced no .ko file`);
  return modules;
}
