import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { diffObjects } from '../../../src/diff/create-diff-object.js';
import type { DiffReport } from '../../../src/diff/report.js';
import type { StructSizes } from '../../../src/diff/struct-sizes.js';
import type { ElfFile } from '../../../src/elf/index.js';
import { parseElf, serializeElf } from '../../../src/elf/index.js';
import { compileFixturePair, readFixtureSpec } from './compile-fixture.js';

/** Compiles a fixture pair into `dir`, diffs it (no refusal allowed) and re-reads the output object. */
export async function diffFixtureOutput(
  name: string,
  dir: string,
): Promise<{ elf: ElfFile; file: string; report: DiffReport }> {
  const spec = await readFixtureSpec(name);
  const paths = await compileFixturePair(spec, dir);
  const { report, output } = diffObjects({
    origPath: paths.orig,
    orig: await readFile(paths.orig),
    patchedPath: paths.patched,
    patched: await readFile(paths.patched),
    parent: spec.parent,
    structSizes: spec.sizes as StructSizes,
  });
  expect(report.refusals).toEqual([]);
  const bytes = serializeElf(output!);
  const file = join(dir, `${name}.out.o`);
  await writeFile(file, bytes);
  return { elf: parseElf(bytes), file, report };
}

export function relocationsOf(elf: ElfFile, name: string) {
  return elf.sections.find((s) => s.name === `.rela${name}`)?.relocations ?? [];
}
