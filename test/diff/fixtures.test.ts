import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffObjects } from '../../src/diff/create-diff-object.js';
import type { StructSizes } from '../../src/diff/struct-sizes.js';
import type { FixtureSpec } from './support/compile-fixture.js';
import { compileFixturePair, FIXTURE_DIR, readFixtureSpec } from './support/compile-fixture.js';

const names = (await readdir(FIXTURE_DIR))
  .filter((f) => f.endsWith('.c'))
  .map((f) => f.slice(0, -2))
  .sort();
let dir: string;
const compiled = new Map<string, { spec: FixtureSpec; orig: Buffer; patched: Buffer }>();
const specs = await Promise.all(names.map(readFixtureSpec));
/** The same fixtures built by clang, as LLVM=1 kernels are: its own static-local and string naming. */
const clangNames = specs.filter((s) => !s.gccOnly && s.compiler === 'gcc').map((s) => s.name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cdo-fixtures-'));
  const variants = [
    ...specs,
    ...specs.filter((s) => clangNames.includes(s.name)).map((s) => ({ ...s, compiler: 'clang' as const })),
  ];
  await Promise.all(
    variants.map(async (spec) => {
      const paths = await compileFixturePair(spec, dir);
      const key = spec.compiler === 'clang' ? `clang:${spec.name}` : spec.name;
      compiled.set(key, { spec, orig: await readFile(paths.orig), patched: await readFile(paths.patched) });
    }),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(key: string) {
  const { spec, orig, patched } = compiled.get(key)!;
  const name = spec.name;
  const result = diffObjects({
    origPath: `${name}.orig.o`,
    orig,
    patchedPath: `${name}.patched.o`,
    patched,
    parent: spec.parent,
    structSizes: spec.sizes as StructSizes,
  });
  return { spec, ...result };
}

describe('create-diff-object fixture corpus', () => {
  it('has at least 40 fixture pairs', () => {
    expect(names.length).toBeGreaterThanOrEqual(40);
  });

  it.each([...names, ...clangNames.map((n) => `clang:${n}`)])('%s', (key) => {
    const { spec, report } = run(key);
    const { expect: expected } = spec;
    if (expected.outcome === 'refused') {
      expect(report.outcome, JSON.stringify(report, null, 1)).toBe('refused');
      expect(report.refusals.map((r) => r.kind)).toContain(expected.kind);
      for (const refusal of report.refusals) expect(refusal.hint.length).toBeGreaterThan(10);
      return;
    }
    expect(
      {
        outcome: report.outcome,
        refusals: report.refusals.map((r) => r.message),
      },
      JSON.stringify(report.refusals, null, 1),
    ).toEqual({ outcome: expected.outcome, refusals: [] });
    if (expected.outcome === 'changed') {
      expect([...report.changedFunctions].sort()).toEqual([...expected.changed].sort());
      expect([...report.newFunctions].sort()).toEqual([...expected.added].sort());
      expect(report.untracedFunctions.map((u) => u.function).sort()).toEqual([...expected.untraced].sort());
    }
  });
});
