import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { recordedCommand, retargetCommand } from '../../../src/diff/kbuild-command.js';

/**
 * Rebuilds one object of a built kernel tree from a copy of its source (optionally edited) with the
 * recorded kbuild command plus -ffunction-sections -fdata-sections, objtool included. The tree is
 * never written to: the copy and the object live in `outDir`.
 */
export async function rebuildKernelObject(options: {
  buildDir: string;
  object: string;
  outDir: string;
  label: string;
  edit?: (source: string) => string;
}): Promise<string> {
  const { buildDir, object, outDir, label } = options;
  const sourceRel = object.replace(/\.o$/, '.c');
  const source = join(outDir, `${label}-${basename(sourceRel)}`);
  const output = join(outDir, `${label}-${basename(object)}`);
  if (options.edit) {
    const original = await readFile(join(buildDir, sourceRel), 'utf8');
    const edited = options.edit(original);
    if (edited === original) throw new Error(`the edit of ${sourceRel} for ${label} changed nothing`);
    await writeFile(source, edited);
  } else {
    await copyFile(join(buildDir, sourceRel), source);
  }
  const command = retargetCommand(await recordedCommand(buildDir, object), {
    object,
    source: sourceRel,
    newSource: source,
    newObject: output,
    extraFlags: ['-ffunction-sections', '-fdata-sections', `-I${join(buildDir, dirname(sourceRel))}`],
    keepObjtool: true,
  });
  await execa('sh', ['-c', command], { cwd: buildDir });
  return output;
}
