/**
 * Where an RPM distro release's files are. Each package (the kernel SRPM, kernel-devel, kernel-core) has
 * either repositories, searched in order through their repodata (the package's SHA256 and size come from
 * primary.xml: verification "repodata"), or direct URL patterns (Fedora's koji, Oracle's SRPM directory),
 * checked only by the RPM's own digests ("rpm-digests"). Templates needing a value the release lacks
 * (e.g. a vault URL with {minor} for an ".el9" release) are skipped.
 */
import { join } from 'node:path';
import { DistroError, KpatchError } from '../errors.js';
import { queryRepository, type RepoPackage } from '../source/repodata.js';
import { expandOptional, type RpmData, type RpmLocation } from './adapter-data.js';
import type { Artifact, ParsedRelease, ResolvedArtifacts, ResolveOptions } from './distro-adapter.js';

function fileNameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
}

export async function resolveRpmArtifacts(
  data: RpmData,
  parsed: ParsedRelease,
  mirrors: Record<string, string>,
  options: ResolveOptions & { cacheDir: string },
): Promise<ResolvedArtifacts> {
  const values: Record<string, string> = { ...parsed.parts, ...mirrors };
  const version = values.version ?? '';
  const rel = values.rel ?? '';
  const arch = values.arch ?? 'x86_64';
  const wanted = new Set([data.source.name, ...Object.values(data.binaries).map((b) => b.name)]);
  const metadataDir = join(options.cacheDir, 'downloads', data.name, 'metadata');
  const repos = new Map<string, RepoPackage[] | undefined>();

  const listRepo = async (url: string): Promise<RepoPackage[] | undefined> => {
    if (!repos.has(url)) {
      try {
        const found = await queryRepository(url, (name) => wanted.has(name), {
          metadataDir,
          signal: options.signal,
          retryDelayMs: options.retryDelayMs,
        });
        repos.set(url, found);
      } catch (error) {
        // A repository this mirror does not have (e.g. a vault for an unreleased minor) is skipped.
        if ((error as { status?: number }).status !== 404) throw error;
        repos.set(url, undefined);
      }
    }
    return repos.get(url);
  };

  const locate = async (
    role: string,
    location: RpmLocation,
    packageArch: string,
  ): Promise<Artifact | undefined> => {
    const tried: string[] = [];
    for (const template of location.repositories ?? []) {
      const url = expandOptional(template, values);
      if (url === undefined) continue;
      tried.push(url);
      const found = (await listRepo(url))?.find(
        (p) =>
          p.name === location.name && p.arch === packageArch && p.version === version && p.release === rel,
      );
      if (found) {
        return {
          role,
          fileName: fileNameOf(found.url),
          url: found.url,
          sha256: found.sha256,
          size: found.size,
          verification: 'repodata',
          ...(location.optional ? { optional: true } : {}),
        };
      }
    }
    for (const template of location.urls ?? []) {
      const url = expandOptional(template, values);
      if (url === undefined) continue;
      return {
        role,
        fileName: fileNameOf(url),
        url,
        verification: 'rpm-digests',
        ...(location.optional ? { optional: true } : {}),
      };
    }
    if (location.optional) return undefined;
    throw new DistroError(
      `${location.name}-${version}-${rel}.${packageArch} is in none of: ${tried.join(', ') || '(no repository applies)'}`,
      {
        hint:
          `the release may be too old for the current repositories (older minors are in the vault, which needs ` +
          `an _<minor> release such as 5.14.0-362.8.1.el9_3), or ${data.name} never shipped it; check uname -r`,
      },
    );
  };

  try {
    const srpm = await locate('srpm', data.source, 'src');
    const source = srpm ? [srpm] : [];
    const binaries: Artifact[] = [];
    for (const [role, location] of Object.entries(data.binaries)) {
      const found = await locate(role, location, arch);
      if (found) binaries.push(found);
    }
    return {
      distro: data.name,
      release: parsed.release,
      packageVersion: `${version}-${rel}`,
      source,
      binaries,
    };
  } catch (error) {
    if (error instanceof KpatchError) throw error;
    throw new DistroError(`cannot resolve ${data.name} ${parsed.release}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
