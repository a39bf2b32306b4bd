import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChecksumError } from '../../src/errors.js';
import type { AptUri } from '../../src/source/fetch-packages.js';
import { fetchDebPackages, type PackageProgress } from '../../src/source/fetch-packages.js';
import { type FileServer, serveFile, tempDir } from './helpers.js';

const servers: FileServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function repo(names: string[]) {
  const uris: AptUri[] = [];
  const logs: FileServer['log'][] = [];
  for (const name of names) {
    const body = randomBytes(50_000);
    const server = await serveFile(body);
    servers.push(server);
    logs.push(server.log);
    const digest = createHash('sha256').update(body).digest('hex');
    uris.push({
      url: server.url,
      fileName: `${name}_6.1.192-2_amd64.deb`,
      size: body.length,
      sha256: digest,
      hash: { algorithm: 'sha256', digest },
      package: name,
      version: '6.1.192-2',
      architecture: 'amd64',
    });
  }
  return { uris, logs, resolve: async () => uris };
}

describe('fetchDebPackages', () => {
  it('downloads every package verified into CACHE/debs, then serves them from the cache', async () => {
    const cacheDir = await tempDir();
    const { resolve, logs } = await repo(['linux-kbuild-6.1', 'linux-headers-6.1.0-37-amd64']);
    const progress: PackageProgress[] = [];
    const fetched = await fetchDebPackages(['linux-kbuild-6.1', 'linux-headers-6.1.0-37-amd64'], {
      cacheDir,
      resolve,
      onProgress: (p) => progress.push(p),
    });
    expect(fetched.map((f) => [f.package, f.version, f.path, f.downloaded])).toEqual([
      ['linux-kbuild-6.1', '6.1.192-2', join(cacheDir, 'debs/linux-kbuild-6.1_6.1.192-2_amd64.deb'), true],
      [
        'linux-headers-6.1.0-37-amd64',
        '6.1.192-2',
        join(cacheDir, 'debs/linux-headers-6.1.0-37-amd64_6.1.192-2_amd64.deb'),
        true,
      ],
    ]);
    expect(progress.at(-1)).toMatchObject({ index: 1, count: 2, transferred: 50_000, total: 50_000 });
    expect((await readdir(join(cacheDir, 'debs'))).sort()).toEqual(
      fetched.map((f) => f.path.split('/').at(-1)).sort(),
    );
    expect(existsSync(join(cacheDir, 'debs/.lock'))).toBe(false);

    const again = await fetchDebPackages(['linux-kbuild-6.1', 'linux-headers-6.1.0-37-amd64'], {
      cacheDir,
      resolve,
    });
    expect(again.map((f) => f.downloaded)).toEqual([false, false]);
    expect(logs.map((l) => l.length)).toEqual([1, 1]);
  });

  it('propagates a checksum failure and releases the lock', async () => {
    const cacheDir = await tempDir();
    const { uris } = await repo(['linux-kbuild-6.1']);
    uris[0]!.sha256 = '00'.repeat(32);
    uris[0]!.hash = { algorithm: 'sha256', digest: '00'.repeat(32) };
    await expect(
      fetchDebPackages(['linux-kbuild-6.1'], { cacheDir, resolve: async () => uris }),
    ).rejects.toBeInstanceOf(ChecksumError);
    expect(await readdir(join(cacheDir, 'debs'))).toEqual([]);
  });
});
