import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDistroData } from '../../src/distro/distro-data.js';
import { fetchDebianPackages } from '../../src/distro/fetch-debian-packages.js';
import type { TestKernelConfig } from '../../src/distro/prepare-test-kernel.js';
import { prepareTestKernel } from '../../src/distro/prepare-test-kernel.js';
import type { TargetKernel } from '../../src/distro/target.js';
import { extractDeb } from '../../src/source/deb.js';
import { buildUbuntuArchive, type UbuntuFixture } from '../distro/distro-fixtures.js';
import { type DirectoryServer, serveDirectory } from '../source/helpers.js';
import { EXAMPLES, REPO } from './support/paths.js';
import { runBin } from './support/run-bin.js';

const RELEASE = '6.1.192-91-generic';
const VERSION = '6.1.192-91.101';
const POOL = '/pool/main/l/linux';

// Ubuntu's distro patch, as a debian/patches quilt patch (README only: the built kernel is the unpatched source's).
const README_PATCH = [
  '--- a/README',
  '+++ b/README',
  '@@ -1,6 +1,8 @@',
  ' Linux kernel',
  ' ============',
  ' ',
  '+Ubuntu fixture: applied from debian/patches',
  '+',
  ' There are several guides for kernel developers and users. These guides can',
  ' be rendered in a number of formats, like HTML and PDF. Please read',
  ' Documentation/admin-guide/README.rst first.',
  '',
].join('\n');

// kpatch-build for Ubuntu by release, against a real kernel packaged as Ubuntu packages it: the test
// kernel's source and build (release 6.1.192-91-generic) as a `linux` 3.0 (quilt) source package built
// with dpkg-source around the real orig tarball, linux-headers- (.config, Module.symvers), linux-modules-
// (System.map, kobject-example.ko) and linux-image-unsigned-<release> (vmlinuz), with Packages/Sources
// indexes and InRelease, served in the archive's layout on 127.0.0.1 under jammy-updates. No series map
// has 6.1.192: the adapter finds the release by searching the series' indexes. The module must load
// into that kernel and change its behaviour.
describe('kpatch-build --distro ubuntu -a RELEASE (a real kernel in an Ubuntu archive layout)', () => {
  let kernel: TargetKernel;
  let work: string;
  let cacheDir: string;
  let out: string;
  let server: DirectoryServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    kernel = await prepareTestKernel({ extraversion: '-91-generic' });
    expect(kernel.release).toBe(RELEASE);
    work = await mkdtemp(join(tmpdir(), 'e2e-kpatch-ubuntu-'));
    const { sourcePackage, sourceTarball } = loadDistroData<TestKernelConfig>('test-kernel');
    const [deb] = await fetchDebianPackages([sourcePackage]);
    if (!deb) throw new Error(`${sourcePackage} was not downloaded`);
    await extractDeb(deb.path, join(work, 'deb'), { filter: [sourceTarball] });
    const fx: UbuntuFixture = {
      release: RELEASE,
      version: VERSION,
      series: 'jammy',
      suite: 'jammy-updates',
      format: '3.0 (quilt)',
      patch: README_PATCH,
      real: {
        tarball: join(work, 'deb', sourceTarball),
        topDir: 'linux-source-6.1',
        config: kernel.config,
        moduleSymvers: kernel.moduleSymvers,
        systemMap: kernel.symbols.path,
        image: kernel.image,
        modules: {
          'kernel/samples/kobject/kobject-example.ko': join(
            kernel.sourceDir ?? '',
            'samples/kobject/kobject-example.ko',
          ),
        },
      },
    };
    const root = join(work, 'archive');
    await buildUbuntuArchive(root, join(work, 'build'), fx);
    server = await serveDirectory(root);
    await rm(join(work, 'deb'), { recursive: true, force: true });
    await rm(join(work, 'build'), { recursive: true, force: true });
    cacheDir = join(work, 'cache');
    out = join(work, 'out');
    env = { KPATCH_MIRROR_UBUNTU: server.url, CACHEDIR: cacheDir };
  });

  afterAll(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('builds examples/cmdline.patch and proves it in a VM booting linux-image-unsigned vmlinuz', async () => {
    const result = await runBin(
      'kpatch-build',
      [
        '--distro',
        'ubuntu',
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
    expect(log).toContain(`Ubuntu kernel ${RELEASE}: preparing its source (cached)`);
    expect(log).toContain(`make olddefconfig modules_prepare for ${RELEASE}`);
    expect(log).toContain('fs/proc/cmdline.o: changed function: cmdline_proc_show');
    expect(log).toContain('Patched objects: vmlinux');
    expect(log).toContain(`SUCCESS: ${out}/livepatch-cmdline.ko`);
    // The VM boots the image taken from linux-image-unsigned, not the test kernel's own bzImage.
    const image = join(cacheDir, 'targets/ubuntu', RELEASE, 'files/vmlinuz');
    expect(log).toContain(`Verifying livepatch-cmdline.ko in a VM (${image})`);
    expect(await readFile(image)).toEqual(await readFile(kernel.image));
    expect(log).toMatch(/verify: PASS check #1 fails before loading: failed as expected/);
    expect(log).toMatch(/verify: PASS check #1 passes with the livepatch: ok/);
    expect(log).toMatch(/verify: PASS check #1 fails after unloading: failed as expected/);
    expect(log).toMatch(/verify: SUCCESS/);
    expect(result.exitCode, log).toBe(0);
    // The tree is the source package unpacked (its quilt patch applied), made to say the release, with
    // the ABI define Ubuntu's headers have, there when the livepatch module was built.
    const tree = join(cacheDir, 'targets/ubuntu', RELEASE, 'source');
    expect(await readFile(join(tree, 'README'), 'utf8')).toContain(
      'Ubuntu fixture: applied from debian/patches',
    );
    expect(await readFile(join(tree, 'include/config/kernel.release'), 'utf8')).toBe(`${RELEASE}\n`);
    expect((await readFile(join(tree, 'include/generated/utsrelease.h'), 'utf8')).split('\n')).toEqual([
      `#define UTS_RELEASE "${RELEASE}"`,
      '#define UTS_UBUNTU_RELEASE_ABI 91',
      '',
    ]);
    // Found by searching the series (noble first, then jammy's pockets); linux-modules-extra is not
    // published for this release, so it is not fetched.
    const asked = server.requests.filter((r) => r.path.endsWith('/InRelease'));
    expect(asked.map((r) => `${r.path} ${r.status}`)).toEqual([
      '/dists/noble-security/InRelease 404',
      '/dists/noble-updates/InRelease 404',
      '/dists/noble/InRelease 404',
      '/dists/jammy-security/InRelease 404',
      '/dists/jammy-updates/InRelease 200',
    ]);
    const downloaded = server.requests.filter((r) => r.path.startsWith('/pool/') && r.status === 200);
    expect(downloaded.map((r) => r.path).sort()).toEqual(
      [
        `${POOL}/linux_${VERSION}.dsc`,
        `${POOL}/linux_6.1.192.orig.tar.xz`,
        `${POOL}/linux_${VERSION}.debian.tar.xz`,
        `${POOL}/linux-headers-${RELEASE}_${VERSION}_amd64.deb`,
        `${POOL}/linux-modules-${RELEASE}_${VERSION}_amd64.deb`,
        `${POOL}/linux-image-unsigned-${RELEASE}_${VERSION}_amd64.deb`,
      ].sort(),
    );
  });

  it('builds again from the cache without the archive and without preparing the tree again', async () => {
    const before = server.requests.length;
    const started = performance.now();
    const result = await runBin(
      'kpatch-build',
      ['--distro', 'ubuntu', '-a', RELEASE, '-o', out, '-n', 'again', `${EXAMPLES}cmdline.patch`],
      env,
    );
    expect(result.stderr).toContain(`SUCCESS: ${out}/again.ko`);
    expect(result.stderr).not.toContain('modules_prepare');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests.length).toBe(before);
    expect(performance.now() - started).toBeLessThan(60_000);
  });

  it('patches a module linux-modules ships, loaded after the livepatch in the VM', async () => {
    const result = await runBin(
      'kpatch-build',
      [
        '--distro',
        'ubuntu',
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
    expect(result.stderr).toMatch(/verify: PASS check #1 fails before loading: failed as expected/);
    expect(lines).toContain('verify: PASS check #1 passes with the livepatch: ok');
    expect(result.exitCode, result.stderr).toBe(0);
    const modules = join(cacheDir, 'targets/ubuntu', RELEASE, 'modules');
    expect(await readFile(join(modules, 'kernel/samples/kobject/kobject-example.ko'))).toEqual(
      await readFile(join(kernel.sourceDir ?? '', 'samples/kobject/kobject-example.ko')),
    );
  });

  it.each([
    {
      args: ['-a', '6.1.192-90-generic'],
      message:
        /linux-headers-6\.1\.192-90-generic is not in the Ubuntu archive indexes \(searched .*jammy-updates\/main/,
      network: true,
    },
    {
      args: ['-a', '6.1.192-300.fc39.x86_64'],
      message: /"6\.1\.192-300\.fc39\.x86_64" is not a ubuntu kernel release/,
      network: false,
    },
    { args: ['-a', 'latest'], message: /"latest" is not a ubuntu kernel release/, network: false },
  ])('refuses $args with a clear error (exit 66)', async ({ args, message, network }) => {
    const before = server.requests.length;
    const result = await runBin(
      'kpatch-build',
      ['--distro', 'ubuntu', ...args, '-o', out, `${EXAMPLES}cmdline.patch`],
      env,
    );
    expect(result.stderr).toMatch(message);
    expect(result.exitCode).toBe(66);
    // A malformed release is refused before anything is fetched; an unknown one after reading the indexes.
    if (!network) expect(server.requests.length).toBe(before);
    expect(server.requests.slice(before).filter((r) => r.path.startsWith('/pool/'))).toEqual([]);
  });
});
