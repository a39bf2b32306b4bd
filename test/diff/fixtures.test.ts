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

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cdo-fixtures-'));
  await Promise.all(
    names.map(async (name) => {
      const spec = await readFixtureSpec(name);
      const paths = await compileFixturePair(spec, dir);
      compiled.set(name, { spec, orig: await readFile(paths.orig), patched: await readFile(paths.patched) });
    }),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(name: string) {
  const { spec, orig, patched } = compiled.get(name)!;
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

  it.each(names)('%s', (name) => {
    const { spec, report } = run(name);
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
