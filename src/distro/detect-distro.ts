import { readFileSync } from 'node:fs';
import { DistroError } from '../errors.js';
import { DISTRO_IDS } from './distro-adapter.js';

/**
 * What `kpatch-build --distro` accepts today: Debian, and the adapters whose livepatch builds are proven
 * end to end (Fedora, Ubuntu; the RHEL family, which shares Fedora's code and differs only in data,
 * proven on CentOS Stream's repository layout).
 */
export const SUPPORTED_DISTROS: readonly string[] = [
  'debian',
  'fedora',
  'centos',
  'almalinux',
  'rocky',
  'ol',
  'ubuntu',
];

/** Every os-release ID this code knows: those with a distro adapter (distroAdapter(id)). */
export const KNOWN_DISTROS: readonly string[] = DISTRO_IDS;

/** A KEY=value of os-release text, quoted or not. */
function osReleaseField(text: string, key: string): string | undefined {
  const match = new RegExp(`^${key}=(?:"([^"\\n]+)"|'([^'\\n]+)'|([^\\s"'#]+))\\s*$`, 'm').exec(text);
  return match?.slice(1).find(Boolean);
}

/** The ID of an os-release file ("ubuntu", "ol", …), or undefined when it has none. */
export function osReleaseId(osRelease = '/etc/os-release'): string | undefined {
  let text = '';
  try {
    text = readFileSync(osRelease, 'utf8');
  } catch {
    throw new DistroError(`cannot read ${osRelease} to detect the distro`, {
      hint: 'pass --distro debian',
    });
  }
  return osReleaseField(text, 'ID');
}

/** The series this host runs ("jammy") when it is Ubuntu; undefined elsewhere or when unreadable. */
export function hostUbuntuSeries(osRelease = '/etc/os-release'): string | undefined {
  let text = '';
  try {
    text = readFileSync(osRelease, 'utf8');
  } catch {
    return undefined;
  }
  return osReleaseField(text, 'ID') === 'ubuntu' ? osReleaseField(text, 'VERSION_CODENAME') : undefined;
}

/**
 * The distro named by --distro, else by /etc/os-release's ID; only those in `supported` are returned
 * (default: what kpatch-build supports; pass KNOWN_DISTROS to accept every adapter's ID).
 */
export function detectDistro(
  explicit: string | undefined,
  osRelease = '/etc/os-release',
  supported: readonly string[] = SUPPORTED_DISTROS,
): string {
  const id = explicit || osReleaseId(osRelease);
  if (!id || !supported.includes(id)) {
    throw new DistroError(`distro "${id ?? 'unknown'}" is not supported`, {
      hint: `supported today: ${supported.join(', ')} (--distro NAME), or -s DIR with a built tree`,
    });
  }
  return id;
}
