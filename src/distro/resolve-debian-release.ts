/**
 * A Debian release spec to a release name: a named release stays itself; "latest" is the release the
 * linux-image-amd64 metapackage of the suite points at today, read from the suite's verified archive
 * indexes (not the host's apt lists, so any suite from any host). The suite: --suite, else the host's
 * (a bookworm host's "latest" is bookworm's newest kernel), else the first suite of distro/debian.json.
 */
import type { ArchiveOptions } from '../source/debian-archive.js';
import { debianArchiveConfig } from '../source/debian-mirrors.js';
import { debianData, hostDebianSuite, suiteOfRelease } from './debian-layout.js';
import { latestSuiteRelease } from './debian-suite-index.js';

/** The suite a release resolves in: --suite, else the one its name belongs to, else the host's. */
export function debianSuiteFor(release: string, options: ArchiveOptions = {}): string {
  const config = options.config ?? debianArchiveConfig();
  return (
    config.suite ??
    (release === 'latest' ? undefined : suiteOfRelease(release)) ??
    hostDebianSuite() ??
    debianData().suiteOrder[0] ??
    'bookworm'
  );
}

export async function resolveDebianRelease(release: string, options: ArchiveOptions = {}): Promise<string> {
  if (release !== 'latest') return release;
  return latestSuiteRelease(debianSuiteFor(release, options), 'amd64', options);
}
