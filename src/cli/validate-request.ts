/**
 * Everything a user can get wrong on the command line, checked before anything is fetched, prepared or
 * built: input files exist, patches parse (and are not renames or documentation-only), the output
 * directory can really be written (probed: permissions alone lie for root and read-only mounts), and the
 * module name is valid. Each failure names the option or file and says what to do.
 */
import { readFile } from 'node:fs/promises';
import { isKpatchError, PatchError } from '../errors.js';
import { livepatchModuleName, renamedDefaultNote } from '../module/module-spec.js';
import type { PatchDescription } from '../patch/describe-patch.js';
import { describePatch } from '../patch/describe-patch.js';
import { refuseNonCodePatches, refuseRenames } from '../patch/refuse-unbuildable.js';
import { probeOutputDir, requireInput } from './check-paths.js';

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
  name: string | undefined;
  output: string | undefined;
  /** Input files by the option that names them (-s, -c, -v, -r, --oot-module, --oot-module-src). */
  inputs: ReadonlyArray<{ option: string; path: string | undefined; kind?: 'file' | 'directory' }>;
}

export interface ValidatedRequest {
  name: string;
  patches: PatchDescription[];
  /** Things the user should know, e.g. a default name that had characters replaced. */
  notes: string[];
}

/** kpatch-build's checks before any work; throws the first problem found. */
export async function validateBuildRequest(request: BuildRequest): Promise<ValidatedRequest> {
  for (const input of request.inputs) {
    if (input.path !== undefined) await requireInput(input.path, input.option, input.kind);
  }
  const patches = await readPatches(request.patches);
  refuseRenames(patches);
  refuseNonCodePatches(patches);
  const name = livepatchModuleName(request.patches, request.name);
  await probeOutputDir(request.output ?? '.');
  const note = renamedDefaultNote(request.patches, request.name);
  return { name, patches, notes: note ? [note] : [] };
}

/** The request as kpatch-build's options name it. */
export function requestFrom(
  values: Partial<Record<'name' | 'output' | 'sourcedir' | 'config' | 'vmlinux' | 'sourcerpm', string>> & {
    'oot-module'?: string | undefined;
    'oot-module-src'?: string | undefined;
  },
  patches: readonly string[],
): BuildRequest {
  return {
    patches,
    name: values.name,
    output: values.output,
    inputs: [
      { option: '-s/--sourcedir', path: values.sourcedir, kind: 'directory' },
      { option: '-c/--config', path: values.config },
      { option: '-v/--vmlinux', path: values.vmlinux },
      { option: '-r/--sourcerpm', path: values.sourcerpm },
      { option: '--oot-module', path: values['oot-module'] },
      { option: '--oot-module-src', path: values['oot-module-src'], kind: 'directory' },
    ],
  };
}
