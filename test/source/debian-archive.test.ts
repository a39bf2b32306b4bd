import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { aptPackageUris } from '../../src/distro/apt-uris.js';
import {
  latestSuiteRelease,
  listSuiteReleases,
  resolveDebianPackages,
} from '../../src/distro/debian-suite-index.js';
import { fetchDebianPackages } from '../../src/distro/fetch-debian-packages.js';
import { fetchDebianRelease } from '../../src/distro/fetch-debian-release.js';
import { ChecksumError, DistroError, KpatchError } from '../../src/errors.js';
import { openSuite, readPackagesIndex } from '../../src/source/debian-archive.js';
import type { DebianArchiveConfig } from '../../src/source/debian-mirrors.js';
import {
  makeSigningKey,
  type SigningKey,
  serveMirror,
  stopAgent,
  type TestMirror,
  type TestPackage,
  type TestSuite,
  writeSuite,
} from './debian-test-mirror.js';
import { tempDir } from './helpers.js';

let key: SigningKey;
let otherKey: SigningKey;
let keyDir: string;
const mirrors: TestMirror[] = [];

beforeAll(async () => {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  keyDir = await mkdtemp(join(tmpdir(), 'kpb-archive-keys-'));
  key = await makeSigningKey(join(keyDir, 'good'));
  otherKey = await makeSigningKey(join(keyDir, 'other'), 'someone else');
});
afterAll(async () => {
  // Agents of keys made before a failure too: never leave a gpg-agent behind.
  for (const k of [key, otherKey]) if (k) await stopAgent(k);
  const { rm } = await import('node:fs/promises');
  await rm(keyDir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const m of mirrors.splice(0)) await m.close();
});

/** The packages of one trixie kernel build, as the archive names them. */
function kernelBuild(upstream: string, revision = '1'): TestPackage[] {
  const abi = `${upstream}+deb13`;
  const version = `${upstream}-${revision}`;
  const pkg = (name: string, extra: Partial<TestPackage> = {}) => ({
    name,
    version,
    body: randomBytes(3000),
    ...extra,
  });
  return [
    pkg(`linux-image-${abi}-amd64-unsigned`),
    pkg(`linux-headers-${abi}-amd64`),
    pkg(`linux-headers-${abi}-common`, { architecture: 'all' }),
    pkg(`linux-kbuild-${abi}`),
    pkg('linux-source-6.12', { architecture: 'all' }),
    pkg('linux-image-amd64', { depends: `linux-image-${abi}-amd64 (= ${version})` }),
  ];
}

interface Setup {
  mirror: TestMirror;
  config: DebianArchiveConfig;
  cacheDir: string;
  suites: TestSuite[];
}

/** trixie (6.12.117) and trixie-security (6.12.118), served on loopback, signed by `key`. */
async function trixieMirror(change: (suites: TestSuite[]) => void = () => {}): Promise<Setup> {
  const root = await tempDir();
  const suites: TestSuite[] = [
    { suite: 'trixie', packages: kernelBuild('6.12.117') },
    {
      suite: 'trixie-security',
      prefix: 'security',
      packages: kernelBuild('6.12.118'),
      validUntil: new Date(Date.now() + 7 * 86_400_000),
    },
  ];
  change(suites);
  for (const suite of suites) await writeSuite(root, suite, key);
  const mirror = await serveMirror(root);
  mirrors.push(mirror);
  const config: DebianArchiveConfig = {
    mirror: mirror.url,
    securityMirror: `${mirror.url}/security`,
    keyrings: [key.keyring],
    ignoreValidUntil: false,
    maxAgeMs: 15 * 60_000,
  };
  return { mirror, config, cacheDir: await tempDir(), suites };
}

const archiveFiles = async (cacheDir: string, ...path: string[]) =>
  readdir(join(cacheDir, 'downloads/debian', ...path)).catch(() => [] as string[]);

async function failure(promise: Promise<unknown>): Promise<KpatchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KpatchError);
  return error as KpatchError;
}

describe('Debian archive client on a signed loopback mirror', () => {
  it('lists, resolves and fetches a release, every file verified, and reuses the verified indexes', async () => {
    const { mirror, config, cacheDir, suites } = await trixieMirror();
    const options = { config, cacheDir };
    expect(await listSuiteReleases('trixie', options)).toEqual([
      '6.12.117+deb13-amd64',
      '6.12.118+deb13-amd64',
    ]);
    expect(await latestSuiteRelease('trixie', 'amd64', options)).toBe('6.12.118+deb13-amd64');

    const resolved = await resolveDebianPackages('6.12.118+deb13-amd64', undefined, options);
    expect(resolved.suite).toBe('trixie');
    expect(resolved.packageVersion).toBe('6.12.118-1');
    expect(resolved.image.url).toBe(
      `${mirror.url}/security/pool/security/main/l/linux/linux-image-6.12.118+deb13-amd64-unsigned_6.12.118-1_amd64.deb`,
    );
    expect(resolved.headers.map((h) => h.package)).toEqual([
      'linux-headers-6.12.118+deb13-amd64',
      'linux-headers-6.12.118+deb13-common',
      'linux-kbuild-6.12.118+deb13',
    ]);
    expect(resolved.source?.version).toBe('6.12.118-1');
    // Indexes were read by hash, and InRelease is cached only as the verified copy.
    expect(mirror.requests.filter((r) => r.includes('/binary-amd64/'))).toEqual([
      expect.stringMatching(/^\/dists\/trixie\/main\/binary-amd64\/by-hash\/SHA256\/[0-9a-f]{64}$/),
      expect.stringMatching(
        /^\/security\/dists\/trixie-security\/main\/binary-amd64\/by-hash\/SHA256\/[0-9a-f]{64}$/,
      ),
    ]);
    expect(await archiveFiles(cacheDir, `127.0.0.1_${mirror.url.split(':').at(-1)}`, 'trixie')).toEqual([
      'InRelease',
    ]);

    const names = [resolved.image.package, ...resolved.headers.map((h) => h.package)];
    const fetched = await fetchDebianPackages(names, { cacheDir, apt: { config } });
    const security = suites[1]?.packages ?? [];
    for (const f of fetched) {
      expect(await readFile(f.path)).toEqual(security.find((p) => p.name === f.package)?.body);
    }
    // An older build by exact version, from the main suite.
    const [old] = await aptPackageUris(['linux-source-6.12=6.12.117-1'], { config, cacheDir });
    expect(old?.url).toBe(`${mirror.url}/pool/main/l/linux/linux-source-6.12_6.12.117-1_all.deb`);

    // Within maxAge the verified InRelease is reused: no new request for it.
    const before = mirror.requests.filter((r) => r.endsWith('/InRelease')).length;
    await openSuite(mirror.url, 'trixie', { config, cacheDir });
    expect(mirror.requests.filter((r) => r.endsWith('/InRelease')).length).toBe(before);
  });

  it('fetchDebianRelease: the parts of a release asked for, verified; refused when its source is gone', async () => {
    const { config, cacheDir, suites } = await trixieMirror((all) => {
      const trixie = all[0];
      if (trixie) trixie.packages = trixie.packages.filter((p) => p.name !== 'linux-source-6.12');
    });
    const { resolved, files } = await fetchDebianRelease('6.12.118+deb13-amd64', ['headers', 'source'], {
      cacheDir,
      config,
    });
    expect(files.map((f) => `${f.package}=${f.version}`)).toEqual([
      'linux-headers-6.12.118+deb13-amd64=6.12.118-1',
      'linux-headers-6.12.118+deb13-common=6.12.118-1',
      'linux-kbuild-6.12.118+deb13=6.12.118-1',
      'linux-source-6.12=6.12.118-1',
    ]);
    for (const f of files) {
      expect(await readFile(f.path)).toEqual(suites[1]?.packages.find((p) => p.name === f.package)?.body);
    }
    expect(resolved.image.package).toBe('linux-image-6.12.118+deb13-amd64-unsigned');
    const error = await failure(fetchDebianRelease('6.12.117+deb13-amd64', ['source'], { cacheDir, config }));
    expect(error.message).toBe(
      "linux-source-6.12 6.12.117-1 (the source of 6.12.117+deb13-amd64) is no longer in trixie's archive",
    );
  });

  it('refuses an InRelease whose signed text was changed, and caches nothing of it', async () => {
    const { mirror, config, cacheDir } = await trixieMirror();
    const file = join(mirror.root, 'dists/trixie/InRelease');
    await writeFile(file, (await readFile(file, 'utf8')).replace('Origin: Debian', 'Origin: Debiam'));
    const error = await failure(openSuite(mirror.url, 'trixie', { config, cacheDir }));
    expect(error.message).toContain(
      `${mirror.url}/dists/trixie/InRelease: signature check failed: bad signature`,
    );
    expect(error.hint).toMatch(/nothing of it was cached/);
    expect(await archiveFiles(cacheDir, `127.0.0.1_${mirror.url.split(':').at(-1)}`, 'trixie')).toEqual([]);
  });

  it('refuses an InRelease signed by a key that is not in the keyring', async () => {
    const { mirror, config, cacheDir, suites } = await trixieMirror();
    const trixie = suites[0];
    if (!trixie) throw new Error('no suite');
    await writeSuite(mirror.root, trixie, otherKey);
    const error = await failure(openSuite(mirror.url, 'trixie', { config, cacheDir }));
    expect(error.message).toMatch(
      /dists\/trixie\/InRelease: signature check failed: signature by key \w+, which is not in the keyring/,
    );
  });

  it('refuses text outside the clearsigned block', async () => {
    const { mirror, config, cacheDir } = await trixieMirror();
    const file = join(mirror.root, 'dists/trixie/InRelease');
    await writeFile(file, `${await readFile(file, 'utf8')}\nSHA256:\n ${'0'.repeat(64)} 1 main/evil\n`);
    const error = await failure(openSuite(mirror.url, 'trixie', { config, cacheDir }));
    expect(error.message).toMatch(/dists\/trixie\/InRelease is not one clearsigned message/);
  });

  it('refuses a Packages index whose hash does not match the signed Release file, and does not cache it', async () => {
    const { mirror, config, cacheDir } = await trixieMirror();
    const opened = await openSuite(mirror.url, 'trixie', { config, cacheDir });
    if (!opened) throw new Error('suite missing');
    const entry = opened.release.files.get('main/binary-amd64/Packages.xz');
    const dir = join(mirror.root, 'dists/trixie/main/binary-amd64');
    const forged = await readFile(join(dir, 'Packages.xz'));
    forged.writeUInt8(forged.readUInt8(forged.length - 20) ^ 0xff, forged.length - 20);
    await writeFile(join(dir, `by-hash/SHA256/${entry?.sha256}`), forged);
    const selection = { key: 'linux', select: (n: string) => n.startsWith('linux-') };
    const error = await failure(readPackagesIndex(opened, 'main', 'amd64', selection, { config, cacheDir }));
    expect(error.message).toBe(
      `${mirror.url}/dists/trixie/main/binary-amd64/Packages.xz: does not match the SHA256 its signed Release file gives`,
    );
    expect((await archiveFiles(cacheDir, 'indexes')).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('refuses a tampered .deb (same size, other bytes) and keeps nothing of it', async () => {
    const { mirror, config, cacheDir } = await trixieMirror();
    const resolved = await resolveDebianPackages('6.12.118+deb13-amd64', undefined, { config, cacheDir });
    const file = join(mirror.root, 'security', resolved.image.filename);
    const bytes = await readFile(file);
    bytes.writeUInt8(bytes.readUInt8(100) ^ 0xff, 100);
    await writeFile(file, bytes);
    const error = await failure(
      fetchDebianPackages([resolved.image.package], { cacheDir, apt: { config }, retries: 0 }),
    );
    expect(error).toBeInstanceOf(ChecksumError);
    expect(error.message).toContain(
      `linux-image-6.12.118+deb13-amd64-unsigned_6.12.118-1_amd64.deb: SHA256 mismatch: expected ${resolved.image.sha256}`,
    );
    expect(
      (await readdir(join(cacheDir, 'debs'))).filter((f) => f.endsWith('.deb') || f.endsWith('.part')),
    ).toEqual([]);
  });

  it('refuses an expired Release file with a hint naming the option, and accepts it when told', async () => {
    const { mirror, config, cacheDir } = await trixieMirror((suites) => {
      const security = suites[1];
      if (security) {
        security.date = new Date(Date.now() - 30 * 86_400_000);
        security.validUntil = new Date(Date.now() - 23 * 86_400_000);
      }
    });
    const error = await failure(latestSuiteRelease('trixie', 'amd64', { config, cacheDir }));
    expect(error.message).toMatch(/dists\/trixie-security\/InRelease expired on \S+ \(Valid-Until\)/);
    expect(error.hint).toMatch(/--ignore-valid-until/);
    expect(
      existsSync(
        join(
          cacheDir,
          'downloads/debian',
          `127.0.0.1_${mirror.url.split(':').at(-1)}_security`,
          'trixie-security',
          'InRelease',
        ),
      ),
    ).toBe(false);
    const accepted = { ...config, ignoreValidUntil: true };
    expect(await latestSuiteRelease('trixie', 'amd64', { config: accepted, cacheDir })).toBe(
      '6.12.118+deb13-amd64',
    );
  });

  it("refuses another suite's signed InRelease served under this suite's name", async () => {
    const { mirror, config, cacheDir } = await trixieMirror();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(mirror.root, 'dists/forky'), { recursive: true });
    await copyFile(join(mirror.root, 'dists/trixie/InRelease'), join(mirror.root, 'dists/forky/InRelease'));
    const error = await failure(openSuite(mirror.url, 'forky', { config, cacheDir }));
    expect(error.message).toBe(`${mirror.url}/dists/forky/InRelease is for suite "trixie", not "forky"`);
  });

  it('keeps the newer verified Release file when the mirror serves an older one (rollback)', async () => {
    const { mirror, config, cacheDir, suites } = await trixieMirror();
    const always = { ...config, maxAgeMs: 0 };
    const first = await openSuite(mirror.url, 'trixie', { config: always, cacheDir });
    const cached = join(
      cacheDir,
      'downloads/debian',
      `127.0.0.1_${mirror.url.split(':').at(-1)}`,
      'trixie/InRelease',
    );
    const before = await readFile(cached, 'utf8');
    const trixie = suites[0];
    if (!trixie) throw new Error('no suite');
    await writeSuite(mirror.root, { ...trixie, date: new Date(Date.now() - 86_400_000) }, key);
    const again = await openSuite(mirror.url, 'trixie', { config: always, cacheDir });
    expect(mirror.requests.filter((r) => r === '/dists/trixie/InRelease')).toHaveLength(2);
    expect(again?.release.date).toBe(first?.release.date);
    expect(await readFile(cached, 'utf8')).toBe(before);
  });

  it('names the releases a suite carries when asked for one it does not', async () => {
    const { config, cacheDir } = await trixieMirror();
    const error = await failure(
      resolveDebianPackages('6.12.99+deb13-amd64', undefined, { config, cacheDir }),
    );
    expect(error.message).toMatch(
      /^trixie does not carry 6\.12\.99\+deb13-amd64: linux-image-6\.12\.99\+deb13-amd64-unsigned/,
    );
    expect(error.hint).toBe('releases trixie carries today: 6.12.117+deb13-amd64, 6.12.118+deb13-amd64');
    // The same through the package fetcher the Debian flow uses: only trixie is searched for +deb13 names.
    const viaFetch = await failure(
      fetchDebianPackages(['linux-image-6.12.99+deb13-amd64-unsigned', 'linux-kbuild-6.12.99+deb13'], {
        cacheDir,
        apt: { config },
      }),
    );
    expect(viaFetch.message).toBe(
      'trixie does not carry 6.12.99+deb13-amd64: linux-image-6.12.99+deb13-amd64-unsigned, linux-kbuild-6.12.99+deb13 not in trixie, trixie-security',
    );
    expect(viaFetch.hint).toBe(error.hint);
    // An unknown release is the user's (exit 66), whichever path finds it.
    expect(error).toBeInstanceOf(DistroError);
    expect(viaFetch).toBeInstanceOf(DistroError);
  });
});
