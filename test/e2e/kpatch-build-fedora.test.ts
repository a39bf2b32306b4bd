import { readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetKernel } from '../../src/distro/target.js';
import type { DirectoryServer } from '../source/helpers.js';
import { EXAMPLES, REPO } from './support/paths.js';
import { type RpmKernelMirror, serveRpmKernel } from './support/rpm-kernel-mirror.js';
import { runBin } from './support/run-bin.js';

const RELEASE = '6.1.192-300.fc39.x86_64';
const SRPM_PATH = 'packages/kernel/6.1.192/300.fc39/src/kernel-6.1.192-300.fc39.src.rpm';

// kpatch-build for an RPM distro by release, against a real kernel packaged as Fedora packages it: the
// test kernel's source and build (release 6.1.192-300.fc39.x86_64) as a kernel SRPM whose %prep unpacks
// the real tarball, kernel-devel (.config, Module.symvers), kernel-core (System.map, vmlinuz) and
// kernel-modules (.ko.xz), served in koji's layout on 127.0.0.1. The module must load into that kernel
// and change its behaviour.
describe('kpatch-build --distro fedora -a RELEASE (a real kernel in a koji layout)', () => {
  let kernel: TargetKernel;
  let work: string;
  let cacheDir: string;
  let out: string;
  let server: DirectoryServer;
  let env: Record<string, string>;
  let mirror: RpmKernelMirror | undefined;

  beforeAll(async () => {
    mirror = await serveRpmKernel({ id: 'fedora', version: '6.1.192', relBase: '300', dist: '.fc39' });
    ({ kernel, work, server } = mirror);
    cacheDir = join(work, 'cache');
    out = join(work, 'out');
    env = { KPATCH_MIRROR_FEDORA: server.url, CACHEDIR: cacheDir };
  });

  afterAll(() => mirror?.close());

  it('builds examples/cmdline.patch from the SRPM and proves it in a VM booting kernel-core vmlinuz', async () => {
    const result = await runBin(
      'kpatch-build',
      [
        '--distro',
        'fedora',
        '-a',
        RELEASE,
        '-o',
        out,
        '--verify',
        '--check',
        'grep -q " livepatch=1$" /proc/cmdline',
        `${EXAMPLES}cmdline.patch`,
      ],
      env,
    );
    const log = result.stderr;
    expect(log).toContain(`Fedora kernel ${RELEASE}: preparing its source (cached)`);
    expect(log).toContain(`make olddefconfig modules_prepare for ${RELEASE}`);
    expect(log).toContain('fs/proc/cmdline.o: changed function: cmdline_proc_show');
    expect(log).toContain('Patched objects: vmlinux');
    expect(log).toContain(`SUCCESS: ${out}/livepatch-cmdline.ko`);
    // The VM boots the image taken from kernel-core, not the test kernel's own bzImage.
    const image = join(cacheDir, 'targets/fedora', RELEASE, 'files/vmlinuz');
    expect(log).toContain(`Verifying livepatch-cmdline.ko in a VM (${image})`);
    expect(await readFile(image)).toEqual(await readFile(kernel.image));
    expect(log).toMatch(/verify: PASS check #1 fails before loading: failed as expected/);
    expect(log).toMatch(/verify: PASS check #1 passes with the livepatch: ok/);
    expect(log).toMatch(/verify: PASS check #1 fails after unloading: failed as expected/);
    expect(log).toMatch(/verify: SUCCESS/);
    expect(result.exitCode).toBe(0);
    // The tree is the SRPM's %prep output (its patch applied), made to say the release.
    const tree = join(cacheDir, 'targets/fedora', RELEASE, 'source');
    expect(await readFile(join(tree, 'README'), 'utf8')).toContain('RPM fixture: applied by the SRPM %prep');
    expect(await readFile(join(tree, 'include/config/kernel.release'), 'utf8')).toBe(`${RELEASE}\n`);
    const downloaded = server.requests.filter((r) => r.status === 200).map((r) => r.path);
    expect(downloaded).toEqual([
      '/packages/kernel/6.1.192/300.fc39/src/kernel-6.1.192-300.fc39.src.rpm',
      '/packages/kernel/6.1.192/300.fc39/x86_64/kernel-devel-6.1.192-300.fc39.x86_64.rpm',
      '/packages/kernel/6.1.192/300.fc39/x86_64/kernel-core-6.1.192-300.fc39.x86_64.rpm',
      '/packages/kernel/6.1.192/300.fc39/x86_64/kernel-modules-6.1.192-300.fc39.x86_64.rpm',
    ]);
  });

  it('builds again from the cache without the mirror and without preparing the tree again', async () => {
    const before = server.requests.length;
    const started = performance.now();
    const result = await runBin(
      'kpatch-build',
      ['--distro', 'fedora', '-a', RELEASE, '-o', out, '-n', 'again', `${EXAMPLES}cmdline.patch`],
      env,
    );
    expect(result.stderr).toContain(`SUCCESS: ${out}/again.ko`);
    expect(result.stderr).not.toContain('modules_prepare');
    expect(result.exitCode).toBe(0);
    expect(server.requests.length).toBe(before);
    expect(performance.now() - started).toBeLessThan(60_000);
  });

  it('patches a module the kernel ships as .ko.xz in kernel-modules, loaded after the livepatch in the VM', async () => {
    const result = await runBin(
      'kpatch-build',
      [
        '--distro',
        'fedora',
        '-a',
        RELEASE,
        '-o',
        out,
        '--verify',
        '--check',
        'grep -q "^0 livepatched$" /sys/kernel/kobject_example/foo',
        `${REPO}test/fixtures/patches/module-late.patch`,
      ],
      env,
    );
    const lines = result.stderr.split('\n');
    expect(lines).toContain('samples/kobject/kobject-example.o: changed function: foo_show');
    expect(lines).toContain('Patched objects: kobject_example');
    expect(lines).toContain('verify: PASS load kobject-example.ko after the patch: ok');
    expect(lines).toContain('verify: PASS check #1 passes with the livepatch: ok');
    expect(result.exitCode, result.stderr).toBe(0);
    // The module was taken from the package as shipped and decompressed beside it, in the cache.
    const modules = join(cacheDir, 'targets/fedora', RELEASE, 'modules');
    expect((await stat(join(modules, 'kernel/samples/kobject/kobject-example.ko.xz'))).isFile()).toBe(true);
    expect(await readFile(join(`${modules}.uncompressed`, 'kobject-example.ko'))).toEqual(
      await readFile(join(kernel.sourceDir ?? '', 'samples/kobject/kobject-example.ko')),
    );
  });

  it('builds a header change without a kernel build, and again after --full-build, pruning the includers', async () => {
    const patch = `${REPO}test/fixtures/patches/header-and-c.patch`;
    const check = ['--verify', '--check', 'grep -q " livepatch=1$" /proc/cmdline'];
    interface Report {
      timings: Record<string, number>;
      headers: { includers: number; pruned: number; compiled: string[] };
    }
    // The prepared tree: the configured objects and their include graph find internal.h's includers;
    // none uses the new macro, so only the changed cmdline.c compiles.
    const direct = await runBin(
      'kpatch-build',
      ['--distro', 'fedora', '-a', RELEASE, '-o', out, '--json', ...check, patch],
      env,
    );
    expect(direct.stderr).toContain('fs/proc/cmdline.o: changed function: cmdline_proc_show');
    expect(direct.stderr).toContain('verify: PASS check #1 passes with the livepatch: ok');
    expect(direct.exitCode, direct.stderr).toBe(0);
    const directReport = JSON.parse(direct.stdout) as Report;
    expect(directReport.headers.includers).toBeGreaterThan(5);
    expect(directReport.headers.compiled).toEqual([]);

    const args = ['--distro', 'fedora', '-a', RELEASE, '-o', out, '--full-build', '--json', '-d'];
    const built = await runBin('kpatch-build', [...args, ...check, patch], env);
    const kept = /work directory kept: (\S+)/.exec(built.stderr)?.[1];
    if (kept) await rm(kept, { recursive: true, force: true });
    const lines = built.stderr.split('\n');
    expect(lines).toContain(`Building Fedora kernel ${RELEASE} (--full-build, once per release)`);
    expect(lines).toContain('fs/proc/cmdline.o: changed function: cmdline_proc_show');
    expect(lines).toContain('Patched objects: vmlinux');
    expect(lines).toContain('verify: PASS check #1 passes with the livepatch: ok');
    expect(built.exitCode, built.stderr).toBe(0);
    // kbuild's records of the full build name internal.h's includers; those using nothing the change
    // defines are not compiled: only cmdline.c, original and patched.
    const compiles = lines.filter((l) => /^\+ .*&& gcc .* -ffunction-sections -fdata-sections .*-c /.test(l));
    expect(compiles).toHaveLength(2);
    expect(compiles.filter((l) => l.includes('fs/proc/root.c'))).toHaveLength(0);
    const report = JSON.parse(built.stdout) as Report;
    expect(report.timings['full build']).toBeGreaterThan(0);
    expect(report.headers.pruned).toBe(report.headers.includers);

    // The built tree is kept: the next run needs no --full-build and does not build again. kbuild's link
    // records now place each object; one in a module is patched in the target's shipped copy.
    const again = await runBin(
      'kpatch-build',
      [
        ...['--distro', 'fedora', '-a', RELEASE, '-o', out, '-n', 'hdr2', '--verify'],
        ...['--check', 'grep -q "^0 livepatched$" /sys/kernel/kobject_example/foo'],
        ...[patch, `${REPO}test/fixtures/patches/module-late.patch`],
      ],
      env,
    );
    expect(again.stderr).toContain(`SUCCESS: ${out}/hdr2.ko`);
    expect(again.stderr).toContain('Patched objects: vmlinux kobject_example');
    expect(again.stderr).toContain('verify: PASS check #1 passes with the livepatch: ok');
    expect(again.stderr).not.toContain('--full-build, once per release');
    expect(again.exitCode, again.stderr).toBe(0);
  });

  it('-r builds from a local SRPM instead of the published one, taking the release from it', async () => {
    const published = join(work, 'mirror', SRPM_PATH);
    const local = join(work, 'kernel-local.src.rpm');
    await rename(published, local); // gone from the mirror: downloading it would fail
    try {
      const before = server.requests.length;
      const cache = join(work, 'cache-r');
      const result = await runBin(
        'kpatch-build',
        ['--distro', 'fedora', '-r', local, '-o', out, '-n', 'from-srpm', `${EXAMPLES}cmdline.patch`],
        { ...env, CACHEDIR: cache },
      );
      expect(result.stderr).toContain(`Fedora kernel ${RELEASE}: preparing its source (cached)`);
      expect(result.stderr).toContain(`SUCCESS: ${out}/from-srpm.ko`);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(server.requests.slice(before).filter((r) => r.path.endsWith('.src.rpm'))).toEqual([]);
      const stamp = JSON.parse(
        await readFile(join(cache, 'targets/fedora', RELEASE, 'source.json'), 'utf8'),
      ) as { verified: Record<string, string> };
      expect(stamp.verified['kernel-local.src.rpm']).toMatch(
        /^local file kernel-local\.src\.rpm: rpm .*sha256/,
      );

      // An SRPM of another release is refused before anything is fetched.
      const other = await runBin(
        'kpatch-build',
        ['--distro', 'fedora', '-r', local, '-a', '6.1.192-301.fc39.x86_64', `${EXAMPLES}cmdline.patch`],
        { ...env, CACHEDIR: cache },
      );
      expect(other.stderr).toMatch(
        /kernel-local\.src\.rpm is the source of kernel-6\.1\.192-300\.fc39, not kernel-6\.1\.192-301\.fc39/,
      );
      expect(other.exitCode).toBe(66);
    } finally {
      await rename(local, published);
    }
  });

  it.each([
    [['-a', '6.1.0-56-amd64'], /"6\.1\.0-56-amd64" is not a fedora kernel release/],
    [['-a', 'latest'], /"latest" is not a fedora kernel release/],
  ])('refuses %j before fetching anything (exit 66)', async (args, message) => {
    const before = server.requests.length;
    const result = await runBin(
      'kpatch-build',
      ['--distro', 'fedora', ...args, `${EXAMPLES}cmdline.patch`],
      env,
    );
    expect(result.stderr).toMatch(message);
    expect(result.exitCode).toBe(66);
    expect(server.requests.length).toBe(before);
  });
});
