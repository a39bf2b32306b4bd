/**
 * A Debian-format mirror built at test time on loopback: pool/ .debs, dists/<suite>/main/binary-amd64/
 * Packages(.xz) (+ by-hash copies), a Release file listing their SHA256 and size, clearsigned into
 * InRelease with a key gpg generates in a temp home. Files can be swapped after signing (tampering).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, normalize } from 'node:path';
import { execa } from 'execa';

export interface TestPackage {
  name: string;
  version: string;
  /** The .deb's bytes (any bytes: these tests check fetching and verification, not unpacking). */
  body: Buffer;
  depends?: string;
  architecture?: string;
}

export interface TestSuite {
  /** Codename (trixie, trixie-security …). */
  suite: string;
  packages: TestPackage[];
  validUntil?: Date;
  date?: Date;
  /** Where pool files live under the mirror root ("" or "security"). */
  prefix?: string;
}

export interface SigningKey {
  home: string;
  keyring: string;
  fingerprint: string;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A fresh ed25519 signing key in `dir`/gnupg, and its public keyring (binary) at `dir`/keyring.gpg. */
export async function makeSigningKey(dir: string, name = 'kpatch-build test archive'): Promise<SigningKey> {
  const home = join(dir, 'gnupg');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const gpg = (args: string[]) =>
    execa('gpg', ['--homedir', home, '--batch', ...args], { encoding: 'buffer' });
  await gpg([
    '--passphrase',
    '',
    '--quick-gen-key',
    `${name} <test@invalid>`,
    'ed25519',
    'sign',
    'never',
  ]).catch(async (error: unknown) => {
    await execa('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { reject: false });
    throw error;
  });
  const listing = Buffer.from((await gpg(['--list-secret-keys', '--with-colons'])).stdout).toString();
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listing)?.[1];
  if (!fingerprint) throw new Error(`gpg made no key in ${home}: ${listing}`);
  const keyring = join(dir, 'keyring.gpg');
  await writeFile(keyring, (await gpg(['--export', fingerprint])).stdout);
  return { home, keyring, fingerprint };
}

export async function stopAgent(key: SigningKey): Promise<void> {
  await execa('gpgconf', ['--homedir', key.home, '--kill', 'gpg-agent'], { reject: false });
}

function packagesText(suite: TestSuite): string {
  return suite.packages
    .map((p) => {
      const arch = p.architecture ?? 'amd64';
      const file = `pool/${suite.prefix ? `${suite.prefix}/` : ''}main/l/linux/${p.name}_${p.version}_${arch}.deb`;
      return [
        `Package: ${p.name}`,
        'Source: linux',
        `Version: ${p.version}`,
        `Architecture: ${arch}`,
        ...(p.depends ? [`Depends: ${p.depends}`] : []),
        `Filename: ${file}`,
        `Size: ${p.body.length}`,
        `SHA256: ${sha256(p.body)}`,
        'Description: test package',
        '',
      ].join('\n');
    })
    .join('\n');
}

const rfc2822 = (date: Date) => date.toUTCString().replace('GMT', 'UTC');

/** Writes one suite's pool files, indexes and (signed by `key`) InRelease under `root`. */
export async function writeSuite(root: string, suite: TestSuite, key: SigningKey): Promise<void> {
  const base = join(root, suite.prefix ?? '');
  for (const p of suite.packages) {
    const file = join(
      base,
      `pool/${suite.prefix ? `${suite.prefix}/` : ''}main/l/linux/${p.name}_${p.version}_${p.architecture ?? 'amd64'}.deb`,
    );
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, p.body);
  }
  const dists = join(base, 'dists', suite.suite);
  const indexDir = join(dists, 'main/binary-amd64');
  await mkdir(join(indexDir, 'by-hash/SHA256'), { recursive: true });
  const text = Buffer.from(packagesText(suite));
  const xz = Buffer.from((await execa('xz', ['-c'], { input: text, encoding: 'buffer' })).stdout);
  const entries: [string, Buffer][] = [
    ['main/binary-amd64/Packages', text],
    ['main/binary-amd64/Packages.xz', xz],
  ];
  for (const [path, data] of entries) {
    await writeFile(join(dists, path), data);
    await writeFile(join(indexDir, 'by-hash/SHA256', sha256(data)), data);
  }
  const release = [
    'Origin: Debian',
    `Suite: ${suite.suite}`,
    `Codename: ${suite.suite}`,
    `Date: ${rfc2822(suite.date ?? new Date())}`,
    ...(suite.validUntil ? [`Valid-Until: ${rfc2822(suite.validUntil)}`] : []),
    'Acquire-By-Hash: yes',
    'Architectures: amd64',
    'Components: main',
    'SHA256:',
    ...entries.map(([path, data]) => ` ${sha256(data)} ${String(data.length).padStart(8)} ${path}`),
    '',
  ].join('\n');
  await writeFile(join(dists, 'Release'), release);
  await execa('gpg', [
    '--homedir',
    key.home,
    '--batch',
    '--yes',
    '--clearsign',
    '-o',
    join(dists, 'InRelease'),
    join(dists, 'Release'),
  ]);
}

export interface TestMirror {
  url: string;
  root: string;
  /** Request paths served, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves `root` on 127.0.0.1 (files only; 404 otherwise). */
export async function serveMirror(root: string): Promise<TestMirror> {
  const requests: string[] = [];
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/'));
    requests.push(path);
    try {
      const body = await readFile(join(root, path));
      res.writeHead(200, { 'content-length': body.length }).end(body);
    } catch {
      res.writeHead(404, { 'content-length': 0 }).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    root,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
