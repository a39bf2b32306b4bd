import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { toolVersion } from '../../src/cli/version.js';
import { prepareTarget } from '../../src/distro/prepare-target.js';
import type { TargetKernel } from '../../src/distro/target.js';
import { readElfFile } from '../../src/elf/index.js';
import { modinfoValue } from '../../src/module/modinfo.js';
import { cacheRoot } from '../../src/source/cache-dir.js';
import { buildImage, debianBaseImage, runImage } from './support/container-image.js';
import { EXAMPLES, REPO } from './support/paths.js';
import { runBin } from './support/run-bin.js';

const IMAGE = 'localhost/kpatch-build:e2e';

// The top-level Dockerfile, built on a Debian bookworm base (the compiler of bookworm's kernels) and run
// as a build farm runs it: the entrypoint is kpatch-build, the cache is a mounted volume.
describe('the container image', () => {
  let target: TargetKernel;

  beforeAll(async () => {
    await buildImage(await debianBaseImage('bookworm'), IMAGE);
    // The host prepares the release first: the container must find it all in the mounted cache.
    target = await prepareTarget({ kind: 'debian', release: 'latest' });
  });

  it('runs kpatch-build as its entrypoint', async () => {
    const result = await runImage(IMAGE, [], {}, ['--version']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`kpatch-build ${toolVersion()}`);
    expect(result.exitCode).toBe(0);
  });

  it("builds a livepatch for Debian's kernel from the mounted cache and proves it with --verify inside", async () => {
    const cache = cacheRoot();
    const out = await mkdtemp(join(tmpdir(), 'e2e-container-'));
    const debsBefore = await readdir(join(cache, 'debs'));
    // Mounted at the same path: cached manifests name absolute paths.
    const result = await runImage(
      IMAGE,
      [`${cache}:${cache}`, `${EXAMPLES}:/patches:ro`, `${out}:/out`],
      { CACHEDIR: cache, CI: 'true' },
      ['--distro', 'debian', '-a', target.release, '-o', '/out', '--verify', '/patches/cmdline.patch'],
    );
    const lines = result.stderr.split('\n');
    expect(lines, result.stderr).toContain('fs/proc/cmdline.o: changed function: cmdline_proc_show');
    expect(lines).toContain('SUCCESS: /out/livepatch-cmdline.ko');
    expect(lines).toContain('verify: PASS insmod livepatch_cmdline: ok');
    expect(lines).toContain('verify: PASS check #1 passes with the livepatch: ok');
    expect(result.stderr).toMatch(/^verify: SUCCESS/m);
    expect(result.exitCode).toBe(0);
    const ko = join(out, 'livepatch-cmdline.ko');
    expect(existsSync(ko)).toBe(true);
    expect(modinfoValue(await readElfFile(ko), 'vermagic')).toMatch(new RegExp(`^${target.release} `));
    // Nothing downloaded again: the container used the host's packages.
    expect(await readdir(join(cache, 'debs'))).toEqual(debsBefore);
    // The same compiler and the same cache path: the host builds the very same bytes.
    const host = await runBin('kpatch-build', [
      '--distro',
      'debian',
      '-a',
      target.release,
      '-o',
      join(out, 'host'),
      `${EXAMPLES}cmdline.patch`,
    ]);
    expect(host.exitCode, host.stderr).toBe(0);
    expect(await readFile(join(out, 'host', 'livepatch-cmdline.ko'))).toEqual(await readFile(ko));
  });

  // The Dockerfile fetches Node and npm from the npm registry with this script: a tarball that does not
  // match the integrity written in the Dockerfile must not be used (nor left behind).
  it.each([
    ['accepts the Dockerfile pin', undefined, 0],
    ['refuses another digest', `sha512-${Buffer.alloc(64, 7).toString('base64')}`, 1],
  ])('fetch-npm-tarball.sh %s', async (_, integrity, exitCode) => {
    const dockerfile = await readFile(`${REPO}Dockerfile`, 'utf8');
    const version = /^ARG NPM_VERSION=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
    const pin = /^ARG NPM_INTEGRITY=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
    const out = join(await mkdtemp(join(tmpdir(), 'e2e-npm-fetch-')), 'npm.tgz');
    const result = await execa(
      'sh',
      [`${REPO}scripts/fetch-npm-tarball.sh`, 'npm', version, integrity ?? pin, out],
      { reject: false },
    );
    expect(result.exitCode, result.stderr).toBe(exitCode);
    expect(existsSync(out)).toBe(exitCode === 0);
    if (exitCode !== 0) expect(result.stderr).toContain(`npm@${version} does not match its integrity`);
  });
});
