/**
 * A well-formed release the archive does not have (e.g. 6.1.0-99-amd64) is the user's "unknown release"
 * (exit 66), not a broken download; and asking for it must leave no empty cache entry behind.
 */
import { rmdir } from 'node:fs/promises';
import { DistroError, isKpatchError } from '../errors.js';

/** The package lookup failed because the image package of the release does not exist. */
export function isMissingImagePackage(error: unknown, imagePackage: string): boolean {
  return (
    isKpatchError(error) &&
    error.code === 'source' &&
    error.message.includes(imagePackage) &&
    /cannot find|not found|no such|unable to locate/i.test(error.message)
  );
}

/** Turns "package not found" for the release's image package into a DistroError naming the release. */
export function releaseNotFound(error: unknown, distro: string, release: string, imagePackage: string) {
  if (!isMissingImagePackage(error, imagePackage)) return error;
  return new DistroError(
    `${distro} has no kernel release ${release} (${imagePackage} is not in the archive)`,
    {
      cause: error,
      hint: 'check the release (uname -r on the target; apt-cache search linux-image-) or use -a latest; if it was just published, run apt-get update',
    },
  );
}

/** Removes a cache entry directory if it is empty (ENOTEMPTY: someone else uses it; leave it). */
export async function removeIfEmpty(dir: string): Promise<void> {
  await rmdir(dir).catch(() => {});
}
