import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { aptPackageUris } from '../../src/distro/apt-uris.js';
import {
  latestSuiteRelease,
  listSuiteReleases,
  resolveDebianPackages,
} from '../../src/distro/debian-suite-index.js';
import { fetchDebianPackages } from '../../src/distro/fetch-debian-packages.js';
import { prepareDebianTarget } from '../../src/distro/prepare-debian-target.js';
import { KpatchError } from '../../src/errors.js';
import { extractDeb, readDebControl } from '../../src/source/deb.js';
import { type OpenedSuite, openSuite } from '../../src/source/debian-archive.js';
import { debianArchiveConfig } from '../../src/source/debian-mirrors.js';
import { tempDir } from '../source/helpers.js';

// The real Debian archive (the registry): indexes verified with the host's debian-archive-keyring, in
// the shared cache. Only small packages are downloaded here (headers, kbuild); the 100+ MB image and
// source packages are resolved and checked by size and SHA256 only when another test fetched them.

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const config = debianArchiveConfig();

describe('the Debian archive client against the real Debian archive', () => {
  it("resolves trixie's current kernel to signed, checksummed packages and fetches its headers verified", async () => {
    const release = await latestSuiteRelease('trixie');
    expect(release).toMatch(/^6\.12\.\d+\+deb13(?:\.\d+)?-amd64$/);
    const carried = await listSuiteReleases('trixie');
    expect(carried).toContain(release);
    expect(carried).toContain('6.12.115+deb13.1-amd64');
    expect(carried).toContain(release.replace(/-amd64$/, '-cloud-amd64'));
    expect(carried).toContain(release.replace(/-amd64$/, '-rt-amd64'));
    expect(carried.at(-1)).toMatch(/^6\.12\.\d+\+deb13(?:\.\d+)?-(?:cloud-|rt-)?amd64$/);

    const resolved = await resolveDebianPackages(release);
    expect(resolved.suite).toBe('trixie');
    expect(resolved.image.package).toBe(`linux-image-${release}-unsigned`);
    expect(resolved.image.size).toBeGreaterThan(50_000_000);
    expect(resolved.source?.package).toBe('linux-source-6.12');
    expect(resolved.source?.version).toBe(resolved.packageVersion);
    const abi = release.replace(/-amd64$/, '');
    expect(resolved.headers.map((h) => h.package)).toEqual([
      `linux-headers-${release}`,
      `linux-headers-${abi}-common`,
      `linux-kbuild-${abi}`,
    ]);

    // Headers and kbuild are a few MB: fetched (or found in the cache) and re-hashed here independently.
    const small = [resolved.headers[0], resolved.headers[2]].map((h) => h?.package ?? '');
    const fetched = await fetchDebianPackages(small);
    for (const [i, f] of fetched.entries()) {
      const stanza = resolved.headers[i === 0 ? 0 : 2];
      expect(f.version).toBe(resolved.packageVersion);
      expect(await sha256File(f.path)).toBe(stanza?.sha256);
      expect((await readDebControl(f.path)).package).toBe(stanza?.package);
    }
    // The headers' .config is the trixie kernel's: gcc-14, IBT.
    const out = await tempDir();
    const configPath = `usr/src/linux-headers-${release}/.config`;
    await extractDeb(fetched[0]?.path ?? '', out, { filter: [configPath] });
    const kconfig = await readFile(join(out, configPath), 'utf8');
    expect(kconfig).toMatch(
      /^CONFIG_CC_VERSION_TEXT="x86_64-linux-gnu-gcc-14 \(Debian 14\.[^"]*\) 14\.[^"]*"$/m,
    );
    expect(kconfig).toMatch(/^CONFIG_X86_KERNEL_IBT=y$/m);
  });

  it("gives bookworm's packages exactly as the host's apt does, and its latest kernel", async () => {
    const release = await latestSuiteRelease('bookworm');
    expect(release).toMatch(/^6\.1\.0-\d+-amd64$/);
    const resolved = await resolveDebianPackages(release);
    expect(resolved.headers.map((h) => h.package)).toEqual([
      `linux-headers-${release}`,
      `linux-headers-${release.replace(/-amd64$/, '')}-common`,
      'linux-kbuild-6.1',
    ]);
    // The host is bookworm with fresh lists: apt is an independent oracle for URL, size and SHA256.
    const names = ['linux-source-6.1', `linux-headers-${release}`, resolved.image.package];
    const ours = await aptPackageUris(names);
    const apt = await execa('apt-get', ['download', '--print-uris', ...names], { env: { LC_ALL: 'C' } });
    const aptLines = apt.stdout.split('\n').filter((l) => l.startsWith("'"));
    expect(ours.map((u) => `'${u.url}' ${u.fileName} ${u.size} SHA256:${u.sha256}`).sort()).toEqual(
      aptLines.sort(),
    );
  });

  it('refuses forky while its Release file is past Valid-Until, and reads it when told to accept that', async () => {
    const forky = await openSuite(config.mirror, 'forky').catch((error: unknown) => error);
    if (forky instanceof KpatchError) {
      expect(forky.message).toMatch(/dists\/forky\/InRelease expired on .* \(Valid-Until\)/);
      expect(forky.hint).toMatch(/--ignore-valid-until/);
    } else {
      // The archive refreshed forky's Release file: then it must be valid now.
      expect((forky as OpenedSuite | undefined)?.release.validUntil).toBeGreaterThan(Date.now());
    }
    const accepting = { config: { ...config, ignoreValidUntil: true } };
    const release = await latestSuiteRelease('forky', 'amd64', accepting);
    expect(release).toMatch(/^\d+\.\d+\.\d+\+deb14(?:\.\d+)?-amd64$/);
    const resolved = await resolveDebianPackages(release, undefined, accepting);
    // forky split linux-image-<rel>-unsigned: the kernel, its config and its modules are three packages.
    expect(resolved.image.package).toBe(`linux-binary-unsigned-${release}`);
    expect(resolved.imageParts.map((p) => p.package)).toEqual([
      `linux-base-${release}`,
      `linux-modules-${release}`,
    ]);
    for (const part of resolved.imageParts) expect(part.version).toBe(resolved.packageVersion);
    expect(resolved.headers[2]?.package).toBe(`linux-kbuild-${release.replace(/-amd64$/, '')}`);
  });

  it("checks every suite's InRelease against debian-archive-keyring (good signatures only)", async () => {
    for (const [mirror, suite] of [
      [config.mirror, 'trixie'],
      [config.securityMirror, 'trixie-security'],
      [config.mirror, 'bookworm'],
    ] as const) {
      const opened = await openSuite(mirror, suite);
      expect(opened?.signers.length, suite).toBeGreaterThan(0);
      expect(opened?.release.files.get('main/binary-amd64/Packages.xz')?.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});

describe("trixie's kernel prepared as a target from this (bookworm) host", () => {
  it('unpacks image, headers and kbuild of the verified packages: usr/lib/modules with .ko.xz, IBT config, kallsyms', async () => {
    const release = await latestSuiteRelease('trixie');
    const target = await prepareDebianTarget(release);
    expect(target.release).toBe(release);
    expect(target.packageVersion).toBe((await resolveDebianPackages(release)).packageVersion);
    expect(target.modulesDir).toMatch(new RegExp(`/usr/lib/modules/${release.replaceAll('+', '\\+')}$`));
    const modules = await execa('find', [target.modulesDir ?? '', '-name', '*.ko.xz']);
    expect(modules.stdout.split('\n').length).toBeGreaterThan(1000);
    expect(await readFile(target.config, 'utf8')).toMatch(/^CONFIG_X86_KERNEL_IBT=y$/m);
    // The headers tree points into the cache, and builds against kbuild-<abi>'s scripts.
    const makefile = await readFile(join(target.buildDir, 'Makefile'), 'utf8');
    expect(makefile).toContain(
      `${target.buildDir.replace(/linux-headers-.*$/, '')}linux-headers-${release.replace(/-amd64$/, '')}-common/Makefile`,
    );
    expect(await readFile(join(target.buildDir, 'Module.symvers'), 'utf8')).toMatch(
      /\tvmlinux\tEXPORT_SYMBOL/,
    );
    // Symbols from /proc/kallsyms of the image booted in qemu: a 6.12 kernel's.
    const kallsyms = await readFile(target.symbols.path, 'utf8');
    expect(kallsyms).toMatch(/ t cmdline_proc_show$/m);
    expect(kallsyms).toMatch(/ t __pfx_cmdline_proc_show$/m);
  });
});
