import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareDebianSource } from '../../src/distro/prepare-debian-source.js';
import { cacheRoot } from '../../src/source/cache-dir.js';
import { EXAMPLES } from './support/paths.js';
import { runBin } from './support/run-bin.js';

// A damaged cache entry on Debian's real kernel: the prepared source of the shared cache (the one
// kpatch-build-debian.test.ts uses) is copied into a cache of our own — hard links, never written in
// place: the damage is a deleted file, and the re-unpack replaces the whole tree — then damaged there.
let release: string;
let cache: string;
let sharedTree: string;

/**
 * Hard-link copy of `from` into `to`, except its top-level files (stamps, manifests, logs, kallsyms),
 * which are real copies: those are rewritten or appended in place, the trees only ever replaced whole.
 */
async function linkCopy(from: string, to: string, copyFiles = true): Promise<void> {
  await mkdir(to, { recursive: true });
  await execa('cp', ['-al', `${from}/.`, to]);
  if (!copyFiles) return;
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    await rm(join(to, entry.name), { force: true });
    await cp(join(from, entry.name), join(to, entry.name));
  }
}

beforeAll(async () => {
  const source = await prepareDebianSource('latest');
  release = source.release;
  sharedTree = source.tree;
  cache = await mkdtemp(join(tmpdir(), 'e2e-cache-damage-'));
  const shared = cacheRoot();
  await linkCopy(join(shared, 'targets', 'debian', release), join(cache, 'targets', 'debian', release));
  // Downloads are only replaced by rename after verification: links are safe.
  await linkCopy(join(shared, 'debs'), join(cache, 'debs'), false);
});

describe('kpatch-build --distro debian on a damaged cache', () => {
  it('finds a file missing from the cached source, says so, re-prepares it and builds; the patch is not blamed', async () => {
    await rm(join(cache, 'targets', 'debian', release, 'source', 'fs/proc/cmdline.c'));
    const out = await mkdtemp(join(tmpdir(), 'e2e-cache-damage-out-'));
    const result = await runBin(
      'kpatch-build',
      ['--distro', 'debian', '-a', release, '-o', out, `${EXAMPLES}cmdline.patch`],
      { CACHEDIR: cache },
    );
    expect(result.stderr).toMatch(
      /cache entry .*\/source damaged \(fs\/proc\/cmdline\.c is missing\), re-fetching and re-preparing it/,
    );
    expect(result.stderr).not.toMatch(/does not apply|refresh them/);
    expect(result.exitCode).toBe(0);
    expect(existsSync(join(out, 'livepatch-cmdline.ko'))).toBe(true);
    expect(existsSync(join(cache, 'targets', 'debian', release, 'source', 'fs/proc/cmdline.c'))).toBe(true);
    // The shared entry was never touched.
    expect(existsSync(join(sharedTree, 'fs/proc/cmdline.c'))).toBe(true);
  });
});
