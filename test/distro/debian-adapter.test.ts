import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distroAdapter } from '../../src/distro/distro-adapters.js';
import { DistroError } from '../../src/errors.js';
import { setDebianArchiveOverrides } from '../../src/source/debian-mirrors.js';
import {
  makeSigningKey,
  type SigningKey,
  serveMirror,
  stopAgent,
  type TestMirror,
  type TestPackage,
  writeSuite,
} from '../source/debian-test-mirror.js';

describe('Debian adapter: releases', () => {
  it.each([
    ['6.1.0-56-amd64', { suite: 'bookworm', kver: '6.1', flavour: 'amd64' }],
    ['6.12.118+deb13-cloud-amd64', { suite: 'trixie', kver: '6.12', flavour: 'cloud-amd64' }],
    ['latest', {}],
  ])('parses %s by the suites of distro/debian.json', (release, parts) => {
    expect(distroAdapter('debian').parseRelease(release)).toEqual({ release, parts });
  });

  it.each(['5.15.0-91-generic', '6.5.6-300.fc39.x86_64'])('refuses %s with a hint', (release) => {
    const error = (() => {
      try {
        distroAdapter('debian').parseRelease(release);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DistroError);
    expect((error as DistroError).message).toBe(`"${release}" is not a Debian kernel release name`);
    expect((error as DistroError).hint).toMatch(/6\.1\.0-57-amd64/);
  });

  it('names itself from distro/debian.json', () => {
    expect(distroAdapter('debian').name).toBe('Debian');
  });
});

describe('Debian adapter: artifacts', () => {
  // A signed trixie archive on loopback: the adapter resolves through the tool's archive client.
  let key: SigningKey;
  let dir: string;
  let mirror: TestMirror;
  const packages: TestPackage[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpb-debian-adapter-'));
    key = await makeSigningKey(join(dir, 'key'));
    const abi = '6.12.118+deb13';
    const pkg = (name: string, architecture = 'amd64') => ({
      name,
      version: '6.12.118-1',
      body: randomBytes(2000),
      architecture,
    });
    packages.push(
      pkg(`linux-image-${abi}-amd64-unsigned`),
      pkg(`linux-headers-${abi}-amd64`),
      pkg(`linux-headers-${abi}-common`, 'all'),
      pkg(`linux-kbuild-${abi}`),
      pkg('linux-source-6.12', 'all'),
      { ...pkg('linux-image-amd64'), depends: `linux-image-${abi}-amd64 (= 6.12.118-1)` },
    );
    await writeSuite(join(dir, 'archive'), { suite: 'trixie', packages }, key);
    await writeSuite(
      join(dir, 'archive'),
      { suite: 'trixie-security', prefix: 'security', packages: [] },
      key,
    );
    mirror = await serveMirror(join(dir, 'archive'));
    setDebianArchiveOverrides({
      mirror: mirror.url,
      securityMirror: `${mirror.url}/security`,
      keyrings: [key.keyring],
      suite: 'trixie',
    });
  });

  afterAll(async () => {
    await mirror?.close();
    if (key) await stopAgent(key);
    await rm(dir, { recursive: true, force: true });
  });

  it("resolves latest to the image, headers and the image's linux-source, each with the index's SHA256 and size", async () => {
    const resolved = await distroAdapter('debian').resolveArtifacts('latest', {
      cacheDir: join(dir, 'cache'),
    });
    expect(resolved.release).toBe('6.12.118+deb13-amd64');
    expect(resolved.packageVersion).toBe('6.12.118-1');
    const sha = (name: string) => {
      const body = packages.find((p) => p.name === name)?.body ?? Buffer.alloc(0);
      return createHash('sha256').update(body).digest('hex');
    };
    const summary = [...resolved.binaries, ...resolved.source].map((a) => [
      a.role,
      a.fileName,
      a.sha256,
      a.size,
    ]);
    expect(summary).toEqual([
      [
        'image',
        'linux-image-6.12.118+deb13-amd64-unsigned_6.12.118-1_amd64.deb',
        sha('linux-image-6.12.118+deb13-amd64-unsigned'),
        2000,
      ],
      [
        'headers',
        'linux-headers-6.12.118+deb13-amd64_6.12.118-1_amd64.deb',
        sha('linux-headers-6.12.118+deb13-amd64'),
        2000,
      ],
      [
        'headers',
        'linux-headers-6.12.118+deb13-common_6.12.118-1_all.deb',
        sha('linux-headers-6.12.118+deb13-common'),
        2000,
      ],
      [
        'headers',
        'linux-kbuild-6.12.118+deb13_6.12.118-1_amd64.deb',
        sha('linux-kbuild-6.12.118+deb13'),
        2000,
      ],
      ['source', 'linux-source-6.12_6.12.118-1_all.deb', sha('linux-source-6.12'), 2000],
    ]);
    expect(new Set(resolved.binaries.map((a) => a.verification))).toEqual(new Set(['apt-index']));
    expect(resolved.source[0]?.url).toBe(
      `${mirror.url}/pool/main/l/linux/linux-source-6.12_6.12.118-1_all.deb`,
    );
  });
});
