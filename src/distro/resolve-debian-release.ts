import { execa } from 'execa';
import { DistroError } from '../errors.js';
import { debianData } from './debian-layout.js';

/** Reads which release a metapackage points at from `apt-cache depends` output. */
export function parseLatestRelease(aptCacheDepends: string, metapackage: string, pattern: string): string {
  const re = new RegExp(pattern);
  for (const line of aptCacheDepends.split('\n')) {
    const m = /^\s*Depends:\s*(\S+)/.exec(line);
    const release = m?.[1] ? re.exec(m[1])?.[1] : undefined;
    if (release) return release;
  }
  throw new DistroError(`apt-cache depends ${metapackage} names no kernel image package`, {
    hint: 'run apt-get update, or name the release: --target debian:<release>',
  });
}

/** "latest" is the release the linux-image-amd64 metapackage depends on today. */
export async function resolveDebianRelease(release: string): Promise<string> {
  if (release !== 'latest') return release;
  const data = debianData();
  const result = await execa('apt-cache', ['depends', data.latestMetapackage], { reject: false });
  if (result.failed) {
    throw new DistroError(
      `apt-cache depends ${data.latestMetapackage} failed: ${result.stderr || result.shortMessage}`,
      {
        hint: 'this needs Debian apt metadata: run apt-get update',
      },
    );
  }
  return parseLatestRelease(result.stdout, data.latestMetapackage, data.latestDependsPattern);
}
