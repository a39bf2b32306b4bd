import { basename } from 'node:path';
import { DistroError } from '../errors.js';
import { sha256File } from '../source/dsc.js';
import { readRpm } from '../source/rpm-format.js';

/**
 * kpatch-build -r: a local kernel SRPM standing in for the one the distro publishes. Its own digests are
 * checked (readRpm) and it must be the source of `name`-`version`-`rel` (the target release's parts),
 * so a livepatch is never built from another kernel's source. Returns what prepareDistroSource needs.
 */
export async function checkLocalSrpm(
  path: string,
  expected: { name: string; version: string; rel: string; release: string },
): Promise<{ role: 'srpm'; path: string; sha256: string; verified: string }> {
  const info = await readRpm(path);
  const found = `${info.name}-${info.version}-${info.release}`;
  const wanted = `${expected.name}-${expected.version}-${expected.rel}`;
  if (!info.isSource || found !== wanted) {
    throw new DistroError(
      `${path} is ${info.isSource ? `the source of ${found}` : 'not a source package'}, not ${wanted} (the source of ${expected.release})`,
      { hint: 'give the SRPM of the target kernel (-r), or leave -a out to take the release from the SRPM' },
    );
  }
  return {
    role: 'srpm',
    path,
    sha256: await sha256File(path),
    verified: `local file ${basename(path)}: rpm ${info.verified.join(', ')}`,
  };
}

/** The release a kernel SRPM builds for on this architecture (kpatch-build -r without -a). */
export async function releaseFromSrpm(path: string, arch = 'x86_64'): Promise<string> {
  const info = await readRpm(path);
  if (!info.isSource) {
    throw new DistroError(`${path} is not a source package`, { hint: 'give a .src.rpm with -r' });
  }
  return `${info.version}-${info.release}.${arch}`;
}
