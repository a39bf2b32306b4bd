import { createHash } from 'node:crypto';
import { access, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareDebianSource } from '../../src/distro/prepare-debian-source.js';
import { readElfFile } from '../../src/elf/index.js';
import { EXAMPLES, REPO } from './support/paths.js';

const PATCHES = `${REPO}test/fixtures/patches/`;
const BIN = `${REPO}bin/kpatch-build.js`;

// Build farms run kpatch-build in parallel on one cache and stop jobs half way: the shared Debian
// source tree must never see two patches at once, and an interrupted run must leave it clean.
let tree: string;
let release: string;
let out: string;

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

function start(patch: string, name: string) {
  return execa('node', [BIN, '--distro', 'debian', '-a', release, '-o', out, '-n', name, patch], {
    reject: false,
    env: { CI: 'true' },
  });
}

beforeAll(async () => {
  const source = await prepareDebianSource('latest');
  tree = source.tree;
  release = source.target.release;
  out = await mkdtemp(join(tmpdir(), 'e2e-kpatch-concurrency-'));
}, 20 * 60_000);

describe('kpatch-build on one Debian cache', () => {
  it('SIGINT while the patched source builds: exit 130, the tree restored and unlocked, the cache usable', async () => {
    const before = await sha256(join(tree, 'fs/proc/cmdline.c'));
    const run = start(`${EXAMPLES}cmdline.patch`, 'interrupted');
    let stderr = '';
    run.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('Building patched source') && !run.killed) run.kill('SIGINT');
    });
    const result = await run;
    expect(stderr).toContain('Building patched source');
    expect(result.exitCode, stderr).toBe(130);
    expect(await sha256(join(tree, 'fs/proc/cmdline.c'))).toBe(before);
    expect((await readdir(join(tree, 'fs/proc'))).filter((f) => f.includes('kpatch'))).toEqual([]);
    await expect(access(join(tree, '.kpatch-build.lock'))).rejects.toThrow();

    const again = await start(`${EXAMPLES}cmdline.patch`, 'after-interrupt');
    expect(again.exitCode, String(again.stderr)).toBe(0);
  });

  it('two runs at once: one waits for the other, and each module holds only its own patch', async () => {
    const [a, b] = await Promise.all([
      start(`${EXAMPLES}cmdline.patch`, 'parallel-a'),
      start(`${PATCHES}new-static-function.patch`, 'parallel-b'),
    ]);
    expect([a.exitCode, b.exitCode], `${a.stderr}\n---\n${b.stderr}`).toEqual([0, 0]);
    expect(`${a.stderr}\n${b.stderr}`).toMatch(/waiting for another kpatch-build \(pid \d+\) using /);
    const symbols = async (name: string) =>
      (await readElfFile(join(out, `${name}.ko`))).symbols.map((s) => s.name);
    expect(await symbols('parallel-a')).not.toContain('cmdline_add_marker');
    expect(await symbols('parallel-b')).toContain('cmdline_add_marker');
  });
});
