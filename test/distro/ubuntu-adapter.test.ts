import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAdapterData, type UbuntuData } from '../../src/distro/adapter-data.js';
import { hostUbuntuSeries } from '../../src/distro/detect-distro.js';
import { distroAdapter } from '../../src/distro/distro-adapters.js';
import { makeKernelRelease } from '../../src/distro/release-rules.js';
import { seriesCandidates } from '../../src/distro/ubuntu-archive.js';
import { KpatchError } from '../../src/errors.js';
import { type DirectoryServer, serveDirectory, tempDir } from '../source/helpers.js';
import { buildUbuntuArchive, corrupt, type UbuntuFixture } from './distro-fixtures.js';

const servers: DirectoryServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function archive(fx: UbuntuFixture) {
  const root = await tempDir();
  await buildUbuntuArchive(root, await tempDir(), fx);
  const server = await serveDirectory(root);
  servers.push(server);
  return { root, server, cacheDir: await tempDir() };
}

const jammy: UbuntuFixture = {
  release: '5.15.0-91-generic',
  version: '5.15.0-91.101',
  series: 'jammy',
  suite: 'jammy-updates',
  format: '1.0',
};

describe('ubuntu adapter against a loopback archive', () => {
  it.each([
    { name: 'format 1.0 (orig.tar.gz + diff.gz), as Ubuntu publishes linux', fx: jammy },
    {
      name: 'format 3.0 (quilt), noble, release pocket',
      fx: {
        ...jammy,
        release: '6.8.0-45-generic',
        version: '6.8.0-45.45',
        series: 'noble',
        suite: 'noble',
        format: '3.0 (quilt)',
      } as const,
    },
  ])('$name: prepares a patched tree whose make kernelrelease is the release', async ({ fx }) => {
    const { server, cacheDir } = await archive(fx);
    const adapter = distroAdapter('ubuntu');
    const resolved = await adapter.resolveArtifacts(fx.release, { mirror: server.url, cacheDir });
    expect(resolved.packageVersion).toBe(fx.version);
    // linux-modules-extra-<release> is optional: this archive does not publish it.
    expect(resolved.binaries.map((b) => b.url)).toEqual([
      `${server.url}/pool/main/l/linux/linux-headers-${fx.release}_${fx.version}_amd64.deb`,
      `${server.url}/pool/main/l/linux/linux-modules-${fx.release}_${fx.version}_amd64.deb`,
      `${server.url}/pool/main/l/linux/linux-image-unsigned-${fx.release}_${fx.version}_amd64.deb`,
    ]);
    expect(resolved.source.find((a) => a.role === 'dsc')?.url).toBe(
      `${server.url}/pool/main/l/linux/linux_${fx.version}.dsc`,
    );

    const prepared = await adapter.prepareSource(fx.release, {
      mirror: server.url,
      cacheDir,
      retryDelayMs: 1,
    });
    expect(prepared.cached).toBe(false);
    expect(prepared.packageVersion).toBe(fx.version);
    expect(await readFile(join(prepared.tree, 'fs/proc/cmdline.c'), 'utf8')).toContain(
      `/* ubuntu ${fx.version} */`,
    );
    expect(await readFile(join(prepared.tree, '.config'), 'utf8')).toContain('CONFIG_UBUNTU_FIXTURE=y');
    expect(await readFile(prepared.moduleSymvers, 'utf8')).toContain('printk');
    expect(await readFile(prepared.systemMap, 'utf8')).toContain('_text');
    expect(await readFile(prepared.image ?? '', 'utf8')).toBe(`fake vmlinuz ${fx.version}\n`);
    expect(await readFile(join(prepared.modulesDir ?? '', 'kernel/fs/fixture.ko'), 'utf8')).toBe(
      `fake module ${fx.version}\n`,
    );
    expect(await makeKernelRelease(prepared.tree)).toBe(fx.release);
    expect(prepared.utsDefines).toEqual([`#define UTS_UBUNTU_RELEASE_ABI ${fx.version.split(/[-.]/)[3]}`]);
    expect(Object.keys(prepared.verified).sort()).toEqual(
      [...resolved.source, ...resolved.binaries].map((a) => a.fileName).sort(),
    );

    const requests = server.requests.length;
    const again = await adapter.prepareSource(fx.release, { mirror: server.url, cacheDir });
    expect(again.cached).toBe(true);
    expect(again.tree).toBe(prepared.tree);
    expect(server.requests.length).toBe(requests); // warm: no network at all
  });

  it('takes the mirror from KPATCH_MIRROR_UBUNTU', async () => {
    const { server, cacheDir } = await archive(jammy);
    process.env.KPATCH_MIRROR_UBUNTU = server.url;
    try {
      const resolved = await distroAdapter('ubuntu').resolveArtifacts(jammy.release, { cacheDir });
      expect(resolved.source.every((a) => a.url.startsWith(server.url))).toBe(true);
    } finally {
      delete process.env.KPATCH_MIRROR_UBUNTU;
    }
  });

  it.each([
    { part: 'diff', file: `linux_${jammy.version}.diff.gz` },
    { part: 'headers package', file: `linux-headers-${jammy.release}_${jammy.version}_amd64.deb` },
  ])('refuses a corrupted $part, naming it', async ({ file }) => {
    const { root, server, cacheDir } = await archive(jammy);
    await corrupt(join(root, 'pool/main/l/linux', file));
    const error = await distroAdapter('ubuntu')
      .prepareSource(jammy.release, { mirror: server.url, cacheDir, retryDelayMs: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KpatchError);
    expect((error as KpatchError).code).toBe('checksum');
    expect((error as KpatchError).message).toContain(file);
  });

  it('refuses a Packages index that does not match InRelease', async () => {
    const { root, server, cacheDir } = await archive(jammy);
    await corrupt(join(root, 'dists/jammy-updates/main/binary-amd64/Packages.xz'));
    const error = await distroAdapter('ubuntu')
      .resolveArtifacts(jammy.release, { mirror: server.url, cacheDir, retryDelayMs: 1 })
      .catch((e: unknown) => e);
    expect((error as KpatchError).code).toBe('checksum');
    expect((error as KpatchError).message).toContain('Packages.xz');
  });

  it.each([
    {
      release: '5.15.0-90-generic',
      message: /linux-headers-5\.15\.0-90-generic is not in the Ubuntu archive indexes/,
    },
    {
      release: '5.19.0-1-generic',
      message:
        /linux-headers-5\.19\.0-1-generic is not in the Ubuntu archive indexes \(searched .*jammy-updates\/main/,
    },
    { release: '5.15.0-91', message: /not a ubuntu kernel release/ },
  ])('refuses $release with a DistroError', async ({ release, message }) => {
    const { server, cacheDir } = await archive(jammy);
    const error = await distroAdapter('ubuntu')
      .prepareSource(release, { mirror: server.url, cacheDir })
      .catch((e: unknown) => e);
    expect((error as KpatchError).code).toBe('distro');
    expect((error as KpatchError).message).toMatch(message);
    expect((error as KpatchError).hint).toBeTruthy();
  });

  it.each([
    {
      name: 'an HWE kernel: 6.8.0 is guessed to be noble, found in jammy-updates, built from linux-hwe-6.8',
      fx: {
        release: '6.8.0-45-generic',
        version: '6.8.0-45.45~22.04.1',
        series: 'jammy',
        suite: 'jammy-updates',
        format: '3.0 (quilt)',
        source: 'linux-hwe-6.8',
      } as const,
    },
    {
      name: 'a kernel version no map has (6.1.192), found by searching the series',
      fx: { ...jammy, release: '6.1.192-91-generic', version: '6.1.192-91.101' },
    },
  ])('$name', async ({ fx }) => {
    const { server, cacheDir } = await archive(fx);
    const resolved = await distroAdapter('ubuntu').resolveArtifacts(fx.release, {
      mirror: server.url,
      cacheDir,
    });
    const name = fx.source ?? 'linux';
    expect(resolved.packageVersion).toBe(fx.version);
    expect(resolved.source.find((a) => a.role === 'dsc')?.url).toBe(
      `${server.url}/pool/main/l/${name}/${name}_${fx.version}.dsc`,
    );
    expect(resolved.binaries[0]?.url).toBe(
      `${server.url}/pool/main/l/${name}/linux-headers-${fx.release}_${fx.version}_amd64.deb`,
    );
    // The InReleases asked for: the guessed series' suites (absent here) before jammy's.
    const suites = server.requests.filter((r) => r.path.endsWith('/InRelease')).map((r) => r.path);
    expect(suites.at(-1)).toBe('/dists/jammy-updates/InRelease');
    if (fx.release.startsWith('6.8.0')) expect(suites[0]).toBe('/dists/noble-security/InRelease');

    const prepared = await distroAdapter('ubuntu').prepareSource(fx.release, {
      mirror: server.url,
      cacheDir,
    });
    expect(await makeKernelRelease(prepared.tree)).toBe(fx.release);
    expect(await readFile(join(prepared.tree, 'fs/proc/cmdline.c'), 'utf8')).toContain(
      `/* ubuntu ${fx.version} */`,
    );
  });

  it("searches KPATCH_UBUNTU_SERIES (or the host's own series) first: it decides between two builds of a release", async () => {
    const fx = {
      release: '6.8.0-45-generic',
      version: '6.8.0-45.45~22.04.1',
      series: 'jammy',
      suite: 'jammy-updates',
      format: '3.0 (quilt)',
      source: 'linux-hwe-6.8',
    } as const;
    const { server, cacheDir } = await archive(fx);
    process.env.KPATCH_UBUNTU_SERIES = 'jammy';
    try {
      await distroAdapter('ubuntu').resolveArtifacts(fx.release, { mirror: server.url, cacheDir });
    } finally {
      delete process.env.KPATCH_UBUNTU_SERIES;
    }
    const suites = server.requests.filter((r) => r.path.endsWith('/InRelease')).map((r) => r.path);
    expect(suites).toEqual(['/dists/jammy-security/InRelease', '/dists/jammy-updates/InRelease']);
  });

  it.each([
    ['NAME="Ubuntu"\nID=ubuntu\nVERSION_CODENAME=jammy\n', 'jammy'],
    ['ID=debian\nVERSION_CODENAME=bookworm\n', undefined],
    ['ID=ubuntu\n', undefined],
  ])('reads the host series from %j', async (text, series) => {
    const dir = await tempDir();
    await writeFile(join(dir, 'os-release'), text);
    expect(hostUbuntuSeries(join(dir, 'os-release'))).toBe(series);
    expect(hostUbuntuSeries(join(dir, 'missing'))).toBeUndefined();
    const data = loadAdapterData<UbuntuData>('ubuntu');
    const parsed = distroAdapter('ubuntu').parseRelease('6.8.0-45-generic');
    expect(seriesCandidates(data, parsed, series)).toEqual(
      series ? ['jammy', 'noble', 'focal'] : ['noble', 'jammy', 'focal'],
    );
  });

  it('fetches linux-modules-extra-<release> when the archive has it, its modules beside the others', async () => {
    const { server, cacheDir } = await archive({ ...jammy, modulesExtra: true });
    const prepared = await distroAdapter('ubuntu').prepareSource(jammy.release, {
      mirror: server.url,
      cacheDir,
    });
    expect(Object.keys(prepared.verified)).toContain(
      `linux-modules-extra-${jammy.release}_${jammy.version}_amd64.deb`,
    );
    const modules = prepared.modulesDir ?? '';
    expect(await readFile(join(modules, 'kernel/fs/fixture.ko'), 'utf8')).toContain('fake module');
    expect(await readFile(join(modules, 'kernel/drivers/extra-fixture.ko'), 'utf8')).toContain(
      'fake extra module',
    );
  });

  it('prepares again when the stamp is gone, reusing verified downloads', async () => {
    const { server, cacheDir } = await archive(jammy);
    const adapter = distroAdapter('ubuntu');
    const first = await adapter.prepareSource(jammy.release, { mirror: server.url, cacheDir });
    await rm(join(first.tree, '..', 'source.json'));
    await writeFile(join(first.tree, 'stale-file'), 'x');
    const before = server.requests.filter((r) => r.path.startsWith('/pool/')).length;
    const second = await adapter.prepareSource(jammy.release, { mirror: server.url, cacheDir });
    expect(second.cached).toBe(false);
    expect(server.requests.filter((r) => r.path.startsWith('/pool/')).length).toBe(before);
    expect(await readFile(join(second.tree, 'stale-file')).catch(() => 'gone')).toBe('gone');
  });
});
