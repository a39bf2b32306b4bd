import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { distroAdapter } from '../../src/distro/distro-adapters.js';
import { makeKernelRelease } from '../../src/distro/release-rules.js';
import { BuildError, KpatchError } from '../../src/errors.js';
import { type DirectoryServer, serveDirectory } from '../source/helpers.js';
import { buildKernelRpms, corrupt, distroPatch, publishRpms, type RpmFixture } from './distro-fixtures.js';

const servers: DirectoryServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

// RPMs are built once per release (rpmbuild), then published per test in each distro's layout.
const built = new Map<string, Record<string, string>>();
let work = '';
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kpb-rpm-fixtures-'));
  return () => rm(work, { recursive: true, force: true });
});

async function rpmsFor(fx: RpmFixture): Promise<Record<string, string>> {
  const key = `${fx.id}:${fx.release}`;
  let rpms = built.get(key);
  if (!rpms) {
    rpms = await buildKernelRpms(await mkdtemp(join(work, 'build-')), fx);
    built.set(key, rpms);
  }
  return rpms;
}

async function mirror(fx: RpmFixture) {
  const root = await mkdtemp(join(work, 'mirror-'));
  const server = await serveDirectory(root);
  servers.push(server);
  await publishRpms(root, server.url, fx, await rpmsFor(fx));
  return { root, server, cacheDir: await mkdtemp(join(work, 'cache-')) };
}

const el9 = { version: '5.14.0', relBase: '362.8.1', dist: '.el9_3', release: '5.14.0-362.8.1.el9_3.x86_64' };
const cases: (RpmFixture & { verification: string[]; paths: string[] })[] = [
  {
    id: 'fedora',
    release: '6.5.6-300.fc39.x86_64',
    version: '6.5.6',
    relBase: '300',
    dist: '.fc39',
    // koji has no index: the optional kernel-modules-core and -extra are tried (404 here, so skipped).
    verification: ['rpm-digests', 'rpm-digests', 'rpm-digests', 'rpm-digests', 'rpm-digests', 'rpm-digests'],
    paths: [
      '/packages/kernel/6.5.6/300.fc39/src/kernel-6.5.6-300.fc39.src.rpm',
      '/packages/kernel/6.5.6/300.fc39/x86_64/kernel-devel-6.5.6-300.fc39.x86_64.rpm',
      '/packages/kernel/6.5.6/300.fc39/x86_64/kernel-core-6.5.6-300.fc39.x86_64.rpm',
      '/packages/kernel/6.5.6/300.fc39/x86_64/kernel-modules-core-6.5.6-300.fc39.x86_64.rpm',
      '/packages/kernel/6.5.6/300.fc39/x86_64/kernel-modules-6.5.6-300.fc39.x86_64.rpm',
      '/packages/kernel/6.5.6/300.fc39/x86_64/kernel-modules-extra-6.5.6-300.fc39.x86_64.rpm',
    ],
  },
  {
    id: 'centos',
    release: '5.14.0-362.el9.x86_64',
    version: '5.14.0',
    relBase: '362',
    dist: '.el9',
    verification: ['repodata', 'repodata', 'repodata', 'repodata'],
    paths: [
      '/9-stream/BaseOS/source/tree/Packages/kernel-5.14.0-362.el9.src.rpm',
      '/9-stream/AppStream/x86_64/os/Packages/kernel-devel-5.14.0-362.el9.x86_64.rpm',
      '/9-stream/BaseOS/x86_64/os/Packages/kernel-core-5.14.0-362.el9.x86_64.rpm',
      '/9-stream/BaseOS/x86_64/os/Packages/kernel-modules-5.14.0-362.el9.x86_64.rpm',
    ],
  },
  // kernel-devel only in the vault (third candidate): the current repository is searched first and skipped.
  {
    id: 'almalinux',
    ...el9,
    candidate: { devel: 2 },
    verification: ['repodata', 'repodata', 'repodata', 'repodata'],
    paths: [
      '/almalinux/9/BaseOS/Source/Packages/kernel-5.14.0-362.8.1.el9_3.src.rpm',
      '/vault/9.3/AppStream/x86_64/os/Packages/kernel-devel-5.14.0-362.8.1.el9_3.x86_64.rpm',
      '/almalinux/9/BaseOS/x86_64/os/Packages/kernel-core-5.14.0-362.8.1.el9_3.x86_64.rpm',
      '/almalinux/9/BaseOS/x86_64/os/Packages/kernel-modules-5.14.0-362.8.1.el9_3.x86_64.rpm',
    ],
  },
  {
    id: 'rocky',
    ...el9,
    candidate: { core: 1, source: 1 },
    verification: ['repodata', 'repodata', 'repodata', 'repodata'],
    paths: [
      '/vault/rocky/9.3/BaseOS/source/tree/Packages/kernel-5.14.0-362.8.1.el9_3.src.rpm',
      '/pub/rocky/9/AppStream/x86_64/os/Packages/kernel-devel-5.14.0-362.8.1.el9_3.x86_64.rpm',
      '/vault/rocky/9.3/BaseOS/x86_64/os/Packages/kernel-core-5.14.0-362.8.1.el9_3.x86_64.rpm',
      '/pub/rocky/9/BaseOS/x86_64/os/Packages/kernel-modules-5.14.0-362.8.1.el9_3.x86_64.rpm',
    ],
  },
  {
    id: 'ol',
    ...el9,
    candidate: { devel: 1 },
    verification: ['rpm-digests', 'repodata', 'repodata', 'repodata'],
    paths: [
      '/ol9/SRPMS-updates/kernel-5.14.0-362.8.1.el9_3.src.rpm',
      '/repo/OracleLinux/OL9/baseos/latest/x86_64/Packages/kernel-devel-5.14.0-362.8.1.el9_3.x86_64.rpm',
      '/repo/OracleLinux/OL9/baseos/latest/x86_64/Packages/kernel-core-5.14.0-362.8.1.el9_3.x86_64.rpm',
      '/repo/OracleLinux/OL9/baseos/latest/x86_64/Packages/kernel-modules-5.14.0-362.8.1.el9_3.x86_64.rpm',
    ],
  },
];

describe('RPM distro adapters against a loopback mirror', () => {
  it.each(cases)(
    '$id $release: SRPM %prep applied, .config in place, make kernelrelease = release',
    async (fx) => {
      const { server, cacheDir } = await mirror(fx);
      const adapter = distroAdapter(fx.id);
      const resolved = await adapter.resolveArtifacts(fx.release, { mirror: server.url, cacheDir });
      expect(resolved.packageVersion).toBe(`${fx.version}-${fx.relBase}${fx.dist}`);
      expect([...resolved.source, ...resolved.binaries].map((a) => a.verification)).toEqual(fx.verification);
      expect([...resolved.source, ...resolved.binaries].map((a) => a.url)).toEqual(
        fx.paths.map((p) => `${server.url}${p}`),
      );

      const prepared = await adapter.prepareSource(fx.release, {
        mirror: server.url,
        cacheDir,
        retryDelayMs: 1,
      });
      expect(await readFile(join(prepared.tree, 'fs/proc/cmdline.c'), 'utf8')).toContain(
        `/* ${fx.id} ${fx.release} */`,
      );
      expect(await readFile(join(prepared.tree, '.config'), 'utf8')).toContain(
        `CONFIG_${fx.id.toUpperCase()}_FIXTURE=y`,
      );
      expect(await readFile(prepared.systemMap, 'utf8')).toContain(`_text ${fx.id}`);
      // kernel-core's vmlinuz (for --verify) and kernel-modules' modules, as shipped (.ko.xz).
      expect(await readFile(prepared.image ?? '', 'utf8')).toBe(`fake vmlinuz ${fx.id}\n`);
      expect(await readdir(join(prepared.modulesDir ?? '', 'kernel/fs'))).toEqual(['fixture.ko.xz']);
      expect(await readFile(prepared.moduleSymvers, 'utf8')).toContain('printk');
      expect(await makeKernelRelease(prepared.tree)).toBe(fx.release);
      expect(await readFile(join(prepared.tree, 'Makefile'), 'utf8')).toContain(
        `\nEXTRAVERSION = -${fx.relBase}${fx.dist}.x86_64\n`,
      );
      expect(prepared.utsDefines).toEqual([]);
      for (const how of Object.values(prepared.verified))
        expect(how).toMatch(/rpm header sha256, payload sha256/);

      const again = await adapter.prepareSource(fx.release, { mirror: server.url, cacheDir });
      expect(again.cached).toBe(true);
    },
  );

  it.each([
    { name: 'SRPM from koji (RPM digests only)', id: 'fedora', key: 'source', fx: cases[0]! },
    { name: 'kernel-devel from repodata', id: 'centos', key: 'devel', fx: cases[1]! },
  ])('refuses a corrupted $name, naming the file', async ({ key, fx }) => {
    const { root, server, cacheDir } = await mirror(fx);
    const file = (await rpmsFor(fx))[key]?.split('/').pop() ?? '';
    const { execa } = await import('execa');
    const path = (await execa('find', [root, '-name', file])).stdout.trim();
    await corrupt(path);
    const error = await distroAdapter(fx.id)
      .prepareSource(fx.release, { mirror: server.url, cacheDir, retryDelayMs: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KpatchError);
    expect((error as KpatchError).code).toBe('checksum');
    expect((error as KpatchError).message).toContain(file);
  });

  it('a local SRPM (-r) replaces the published one, and a tree made from another source is made again', async () => {
    const fx = cases[0]!;
    const rpms = await rpmsFor(fx);
    const { server, cacheDir } = await mirror(fx);
    const adapter = distroAdapter(fx.id);
    const fromMirror = await adapter.prepareSource(fx.release, { mirror: server.url, cacheDir });
    expect(fromMirror.cached).toBe(false);
    const local = await adapter.prepareSource(fx.release, {
      mirror: server.url,
      cacheDir,
      sourcePackage: rpms.source!,
    });
    expect(local.cached).toBe(false);
    expect(Object.entries(local.verified).find(([name]) => name.endsWith('.src.rpm'))?.[1]).toMatch(
      /^local file .*\.src\.rpm: rpm /,
    );
    const srpmDownloads = server.requests.filter((r) => r.path.endsWith('.src.rpm') && r.status === 200);
    expect(srpmDownloads).toHaveLength(1); // the mirror's, for the first tree only
    const again = await adapter.prepareSource(fx.release, {
      mirror: server.url,
      cacheDir,
      sourcePackage: rpms.source!,
    });
    expect(again.cached).toBe(true);
    await expect(
      adapter.prepareSource(fx.release, { mirror: server.url, cacheDir, sourcePackage: rpms.devel! }),
    ).rejects.toThrow(/is not a source package, not kernel-6\.5\.6-300\.fc39/);
  });

  it('refuses a release none of the repositories has, listing them', async () => {
    const { server, cacheDir } = await mirror(cases[1]!);
    const error = await distroAdapter('centos')
      .resolveArtifacts('5.14.0-999.el9.x86_64', { mirror: server.url, cacheDir })
      .catch((e: unknown) => e);
    expect((error as KpatchError).code).toBe('distro');
    expect((error as KpatchError).message).toContain('kernel-5.14.0-999.el9.src is in none of');
    expect((error as KpatchError).message).toContain(`${server.url}/9-stream/BaseOS/source/tree/`);
  });

  it("reports a failing %prep as a BuildError with rpmbuild's log", async () => {
    const fx: RpmFixture = {
      ...cases[0]!,
      release: '6.5.7-100.fc39.x86_64',
      version: '6.5.7',
      relBase: '100',
    };
    fx.patch = distroPatch('x').replace(' \treturn 0;', ' \treturn 42;');
    const { server, cacheDir } = await mirror(fx);
    const error = await distroAdapter('fedora')
      .prepareSource(fx.release, { mirror: server.url, cacheDir })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).message).toMatch(
      /rpmbuild -bp \(the %prep of .*kernel-6\.5\.7-100\.fc39\.src\.rpm\) failed/,
    );
    expect(await readFile((error as BuildError).logPath ?? '', 'utf8')).toMatch(/FAILED|Hunk/);
  });
});
