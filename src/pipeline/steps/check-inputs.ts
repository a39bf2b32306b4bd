/** The first steps: the inputs exist, the compiler matches the target's. */
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readElfFile } from '../../elf/index.js';
import { UsageError } from '../../errors.js';
import { checkCompiler } from '../../kbuild/compiler-check.js';
import { moduleNameFromPath } from '../../kbuild/object-parent.js';
import { modinfoValue } from '../../module/modinfo.js';
import type { LivepatchJob, OotModule } from '../build-run.js';
import type { BuildTarget } from '../build-target.js';

export async function mustExist(path: string, what: string, hint: string): Promise<string> {
  await access(path).catch(() => {
    throw new UsageError(`${what} not found: ${path}`, { hint });
  });
  return path;
}

/** The patch files, made absolute. */
export function checkPatchFiles(job: LivepatchJob): Promise<string[]> {
  return Promise.all(job.patches.map((p) => mustExist(resolve(p), 'patch', 'check the patch path')));
}

/** Objects must be compiled by the compiler that built the target (its vmlinux's .comment, or its config). */
export async function checkTargetCompiler(target: BuildTarget, job: LivepatchJob): Promise<void> {
  if (job.skipCompilerCheck) return;
  // Where the target's compiler is: the host, or the build root the target's toolchain enters.
  const wrap = target.toolchain.command;
  await checkCompiler(
    target.symbols.format === 'elf'
      ? { config: target.config, vmlinux: target.symbols.path, wrap }
      : { config: target.config, wrap },
  );
}

/** --oot-module: checks the pair of paths and reads the module's name from its .modinfo. */
export async function describeOotModule(job: LivepatchJob): Promise<OotModule | undefined> {
  const given = job.ootModule;
  if (!given) return undefined;
  const ko = await mustExist(resolve(given.ko), 'out-of-tree module', 'pass the built .ko with --oot-module');
  const sourceDir = await mustExist(
    resolve(given.sourceDir),
    'out-of-tree module source',
    'pass its source directory with --oot-module-src',
  );
  const name = modinfoValue(await readElfFile(ko), 'name') ?? moduleNameFromPath(ko);
  return { ko, sourceDir, name };
}
