import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFixturePair, readFixtureSpec } from './support/compile-fixture.js';

const BIN = new URL('../../bin/create-diff-object.js', import.meta.url).pathname;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cdo-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function runFixture(name: string, extra: string[] = [], env: Record<string, string> = {}) {
  const paths = await compileFixturePair(await readFixtureSpec(name), dir);
  const out = join(dir, `${name}.out.o`);
  const json = join(dir, `${name}.json`);
  const result = await execa('node', [BIN, paths.orig, paths.patched, '-o', out, '--json', json, ...extra], {
    reject: false,
    env,
  });
  return { result, out, json };
}

describe('create-diff-object command', () => {
  it.each([
    ['simple-change', 0],
    ['no-change-comment', 3],
    ['changed-global-data', 2],
  ])('%s exits %i', async (name, code) => {
    const { result } = await runFixture(name);
    expect(result.exitCode, result.stderr).toBe(code);
  });

  it('writes the JSON report and the object on success', async () => {
    const { json, out } = await runFixture('simple-change', ['--symbols', join(dir, 'simple-change.orig.o')]);
    const report = JSON.parse(await readFile(json, 'utf8'));
    expect(report.changedFunctions).toEqual(['compute']);
    expect((await readFile(out)).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  });

  it('explains refusals with a hint', async () => {
    const { result } = await runFixture('notrace-changed');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('untraceable() changed but has no call to __fentry__');
    expect(result.stderr).toContain('hint:');
  });

  it('reads special-section entry sizes from the environment', async () => {
    const without = await runFixture('bug-table-filtered');
    expect(without.result.exitCode).toBe(2);
    expect(without.result.stderr).toContain('BUG_STRUCT_SIZE');
    const withEnv = await runFixture('bug-table-filtered', [], { BUG_STRUCT_SIZE: '12' });
    expect(withEnv.result.exitCode, withEnv.result.stderr).toBe(0);
    const withFlag = await runFixture('bug-table-filtered', ['--struct-size', 'BUG_STRUCT_SIZE=12']);
    expect(withFlag.result.exitCode).toBe(0);
  });

  it('rejects a missing output with a usage error', async () => {
    const result = await execa('node', [BIN, 'a.o', 'b.o'], { reject: false });
    expect(result.exitCode).toBe(64);
  });
});
