import { readFileSync } from 'node:fs';
import { DistroError } from '../errors.js';

const SUPPORTED = ['debian'];

/** The distro named by --distro, else by /etc/os-release's ID; only supported ones are returned. */
export function detectDistro(explicit: string | undefined, osRelease = '/etc/os-release'): string {
  let id = explicit;
  if (!id) {
    let text = '';
    try {
      text = readFileSync(osRelease, 'utf8');
    } catch {
      throw new DistroError(`cannot read ${osRelease} to detect the distro`, {
        hint: 'pass --distro debian',
      });
    }
    id = /^ID="?([^"\n]+)"?$/m.exec(text)?.[1];
  }
  if (!id || !SUPPORTED.includes(id)) {
    throw new DistroError(`distro "${id ?? 'unknown'}" is not supported`, {
      hint: `supported today: ${SUPPORTED.join(', ')} (--distro NAME), or -s DIR with a built tree`,
    });
  }
  return id;
}
