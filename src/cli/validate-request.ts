/**
 * Everything a user can get wrong on the command line, checked before anything is fetched, prepared or
 * built: input files exist, patches parse (and are not renames or documentation-only), the output
 * directory can really be written (probed: permissions alone lie for root and read-only mounts). Each
 * failure names the option or file and says what to do. The module name is checked with the options
 * (src/cli/kpatch-build-options.ts).
 */
import { readFile } from 'node:fs/promises';
import { isKpatchError, PatchError } from '../errors.js';
import type { PatchDescription } from '../patch/describe-patch.js';
import { describePatch } from '../patch/describe-patch.js';
import { refuseNonCodePatches, refuseRenames } from '../patch/refuse-unbuildable.js';
import { probeOutputDir, requireInput } from './check-paths.js';
import type { KpatchBuildJob } from './kpatch-build-options.js';

/** Reads and parses each patch; a missing file is a usage error, an unreadable patch a patch error. */
export async function readPatches(patches: readonly string[]): Promise<PatchDescription[]> {
  const described: PatchDescription[] = [];
  for (const patch of patches) {
    await requireInput(patch, 'patch');
    const text = await readFile(patch, 'utf8');
    try {
      described.push(describePatch(patch, text));
    } catch (error) {
      if (!isKpatchError(error) || error.hint) throw error;
      throw new PatchError(error.message, {
        cause: error,
        hint: 'give a unified diff (git diff, diff -u) whose paths apply with patch -p1',
      });
    }
  }
  return described;
}

export interface BuildRequest {
  patches: readonly string[];
  /** The output directory (created later if missing). */
  output: string;
  /** Input files by the option that names them (-s, -c, -v, -r, --oot-module, --oot-module-src). */
  inputs: ReadonlyArray<{ option: string; path: string | undefined; kind?: 'file' | 'directory' }>;
}

/**
 * kpatch-build's checks of the files before any work (the module name was checked with the options);
 * throws the first problem found, else returns the parsed patches.
 */
export async function validateBuildRequest(request: BuildRequest): Promise<PatchDescription[]> {
  for (const input of request.inputs) {
    if (input.path !== undefined) await requireInput(input.path, input.option, input.kind);
  }
  const patches = await readPatches(request.patches);
  refuseRenames(patches);
  refuseNonCodePatches(patches);
  await probeOutputDir(request.output);
  return patches;
}

/** The files a parsed kpatch-build command names, by the option that names them. */
export function requestFrom(command: KpatchBuildJob): BuildRequest {
  const { target, job } = command;
  const tree = target.kind === 'tree' ? target : undefined;
  return {
    patches: job.patches,
    output: job.outputDir,
    inputs: [
      { option: '-s/--sourcedir', path: tree?.sourceDir, kind: 'directory' },
      { option: '-c/--config', path: tree?.config },
      { option: '-v/--vmlinux', path: tree?.vmlinux },
      { option: '-r/--sourcerpm', path: target.kind === 'distro' ? target.sourceRpm : undefined },
      { option: '--oot-module', path: job.ootModule?.ko },
      { option: '--oot-module-src', path: job.ootModule?.sourceDir, kind: 'directory' },
    ],
  };
}
