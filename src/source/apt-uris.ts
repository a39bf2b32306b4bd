/**
 * Package → URL resolution through apt itself, so mirrors, security updates, pinning and auth all
 * behave exactly as on the host. `apt-get download --print-uris` only reads apt's local lists (no
 * network); it needs `apt-get update` to have run. Each line of its output looks like
 *   'http://deb.debian.org/debian-security/pool/…/linux-kbuild-6.1_6.1.192-2_amd64.deb' linux-kbuild-6.1_6.1.192-2_amd64.deb 1568188 SHA256:7e85…
 */
import { execa } from 'execa';
import { SourceError } from '../errors.js';
import { abortError } from './abort.js';
import type { DigestAlgorithm } from './download.js';

export interface AptUri {
  url: string;
  /** File name apt would save it as (an epoch's ':' appears as '%3a'). */
  fileName: string;
  size: number;
  /** Hex digest of the strongest hash apt knows, or undefined when it printed none. */
  sha256: string | undefined;
  hash: { algorithm: DigestAlgorithm; digest: string } | undefined;
  /** From the file name (name_version_arch.deb), version with its epoch decoded. */
  package: string;
  version: string;
  architecture: string;
}

const ALGORITHMS: Record<string, DigestAlgorithm> = {
  md5sum: 'md5',
  md5: 'md5',
  sha1: 'sha1',
  sha256: 'sha256',
  sha512: 'sha512',
};

/** Parses `apt-get download --print-uris` output. Lines not starting with a quote (notes) are ignored. */
export function parseAptUris(output: string): AptUri[] {
  const uris: AptUri[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith("'")) continue;
    const match = /^'([^']+)' (\S+) (\d+)(?: (\S+):([0-9a-fA-F]+))?$/.exec(line);
    if (!match) {
      throw new SourceError(`cannot parse apt-get --print-uris output line: ${line}`, {
        hint: 'this apt version prints URIs in an unexpected form; please report it',
      });
    }
    const [, url = '', fileName = '', size = '0', algoName, digest] = match;
    if (fileName.includes('/') || fileName === '.' || fileName === '..') {
      throw new SourceError(`apt-get printed an unsafe file name "${fileName}" for ${url}`, {
        hint: 'check the apt sources configuration',
      });
    }
    const algorithm = algoName === undefined ? undefined : ALGORITHMS[algoName.toLowerCase()];
    if (algoName !== undefined && !algorithm) {
      throw new SourceError(`unknown hash type "${algoName}" for ${fileName} in apt-get output`, {
        hint: 'supported: MD5Sum, SHA1, SHA256, SHA512',
      });
    }
    const hash = algorithm && digest ? { algorithm, digest: digest.toLowerCase() } : undefined;
    const [name = '', version = '', architecture = ''] = fileName.replace(/\.deb$/, '').split('_');
    uris.push({
      url,
      fileName,
      size: Number(size),
      sha256: hash?.algorithm === 'sha256' ? hash.digest : undefined,
      hash,
      package: name,
      version: decodeURIComponent(version),
      architecture,
    });
  }
  return uris;
}

/** Turns apt-get's "E:" lines into one SourceError naming the package when possible. */
export function aptErrorFrom(stderr: string, packages: readonly string[]): SourceError {
  const errors = stderr
    .split('\n')
    .filter((line) => line.startsWith('E: '))
    .map((line) => line.slice(3));
  const missing = errors.map((line) => /Unable to locate package (\S+)/.exec(line)?.[1]).filter(Boolean);
  if (missing.length > 0) {
    return new SourceError(`apt cannot find package${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, {
      hint: 'run `apt-get update` (the package lists may be missing or old), and check the package name and the release in /etc/apt/sources.list',
    });
  }
  const noCandidate = errors
    .map((line) => /from package (\S+) as it has no candidate/.exec(line)?.[1])
    .filter(Boolean);
  if (noCandidate.length > 0) {
    return new SourceError(`apt has no installable version of ${noCandidate.join(', ')}`, {
      hint: 'it is a virtual or removed package: name a real package, or run `apt-get update`',
    });
  }
  return new SourceError(
    `apt-get download --print-uris ${packages.join(' ')} failed: ${errors.join('; ') || stderr.trim()}`,
    {
      hint: 'run `apt-get update` and check /etc/apt/sources.list',
    },
  );
}

export interface AptOptions {
  /** The apt-get executable (tests substitute a fake). */
  aptGet?: string;
  signal?: AbortSignal;
}

/** Debian package names (policy §5.6.1), optionally with =version, :arch or /release. */
const PACKAGE_ARG = /^[a-z0-9][a-z0-9+.-]*(?::[a-z0-9-]+)?(?:=[A-Za-z0-9.+~:-]+|\/[A-Za-z0-9.+~-]+)?$/;

/** Resolves packages to download URLs, sizes and digests with the host's apt configuration. */
export async function aptPackageUris(
  packages: readonly string[],
  options: AptOptions = {},
): Promise<AptUri[]> {
  if (packages.length === 0) return [];
  for (const name of packages) {
    if (!PACKAGE_ARG.test(name)) {
      throw new SourceError(`"${name}" is not a valid Debian package name`, {
        hint: 'package names use lower-case letters, digits and + - . (e.g. linux-kbuild-6.1)',
      });
    }
  }
  const aptGet = options.aptGet ?? 'apt-get';
  const result = await execa(aptGet, ['download', '--print-uris', ...packages], {
    reject: false,
    env: { LC_ALL: 'C' }, // messages we parse must be in English
    cancelSignal: options.signal,
  });
  if (options.signal?.aborted) throw abortError(options.signal);
  if (result.failed && result.exitCode === undefined) {
    const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
    throw new SourceError(
      `cannot run ${aptGet}: ${code === 'ENOENT' ? 'not installed' : result.shortMessage}`,
      {
        hint: 'fetching distro kernel packages needs a Debian or Ubuntu host with apt',
        cause: result.cause,
      },
    );
  }
  if (result.exitCode !== 0 || /^E: /m.test(result.stderr)) throw aptErrorFrom(result.stderr, packages);
  const uris = parseAptUris(result.stdout);
  if (uris.length === 0) {
    throw new SourceError(`apt-get printed no URIs for ${packages.join(' ')}`, {
      hint: 'run `apt-get update` and check the package names',
    });
  }
  return uris;
}
