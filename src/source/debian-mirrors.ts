/**
 * Where the Debian archive client reads from and what it trusts. Defaults come from the host's apt
 * sources (the mirror it names for its Debian suites, and the one for -security), else Debian's own
 * (deb.debian.org); KPATCH_DEBIAN_MIRROR / KPATCH_DEBIAN_SECURITY_MIRROR / KPATCH_DEBIAN_KEYRING and
 * KPATCH_DEBIAN_IGNORE_VALID_UNTIL override them, and the CLI sets the same through
 * setDebianArchiveOverrides (so no call site between the CLI and the client has to pass them along).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DebianArchiveConfig {
  mirror: string;
  securityMirror: string;
  /** OpenPGP keyrings an InRelease must be signed with (one good signature from any of them). */
  keyrings: string[];
  ignoreValidUntil: boolean;
  /** A cached, verified InRelease younger than this is used without asking the mirror again. */
  maxAgeMs: number;
  /** The suite --suite chose (release names and "latest" resolve in it), if any. */
  suite?: string;
}

export const DEBIAN_DEFAULTS = {
  mirror: 'http://deb.debian.org/debian',
  securityMirror: 'http://deb.debian.org/debian-security',
  keyring: '/usr/share/keyrings/debian-archive-keyring.gpg',
  maxAgeMs: 15 * 60_000,
};

const DEBIAN_SUITE =
  /^(?:bookworm|trixie|forky|duke|sid|oldoldstable|oldstable|stable|testing|unstable)(?:-updates|-backports|-proposed-updates)?$/;
const SECURITY_SUITE =
  /^(?:bookworm|trixie|forky|duke|sid|oldoldstable|oldstable|stable|testing)-security$|\/updates$/;

interface AptSource {
  uris: string[];
  suites: string[];
}

/** deb822 .sources stanzas and one-line .list entries, binary ("deb") sources only. */
export function parseAptSources(text: string, deb822: boolean): AptSource[] {
  if (!deb822) {
    return text.split('\n').flatMap((raw) => {
      const line = raw.replace(/#.*/, '').trim();
      const match = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      return match ? [{ uris: [match[1] ?? ''], suites: [match[2] ?? ''] }] : [];
    });
  }
  return text.split(/\n\s*\n/).flatMap((stanza) => {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (match && !line.startsWith('#')) fields.set((match[1] ?? '').toLowerCase(), match[2] ?? '');
    }
    const types = (fields.get('types') ?? '').split(/\s+/);
    if (!types.includes('deb') || fields.get('enabled')?.toLowerCase() === 'no') return [];
    return [
      {
        uris: (fields.get('uris') ?? '').split(/\s+/).filter(Boolean),
        suites: (fields.get('suites') ?? '').split(/\s+/),
      },
    ];
  });
}

function readHostSources(etc: string): AptSource[] {
  const read = (file: string, deb822: boolean) => {
    try {
      return parseAptSources(readFileSync(file, 'utf8'), deb822);
    } catch {
      return [];
    }
  };
  const dir = join(etc, 'sources.list.d');
  let names: string[] = [];
  try {
    names = readdirSync(dir).sort();
  } catch {
    names = [];
  }
  return [
    ...read(join(etc, 'sources.list'), false),
    ...names.filter((n) => n.endsWith('.list')).flatMap((n) => read(join(dir, n), false)),
    ...names.filter((n) => n.endsWith('.sources')).flatMap((n) => read(join(dir, n), true)),
  ];
}

/** The mirrors the host's apt sources name for Debian suites and for Debian security, if any. */
export function hostDebianMirrors(etc = '/etc/apt'): { mirror?: string; securityMirror?: string } {
  const sources = readHostSources(etc);
  const pick = (re: RegExp) =>
    sources.find((s) => s.suites.some((suite) => re.test(suite)) && s.uris[0]?.startsWith('http'))?.uris[0];
  const mirror = pick(DEBIAN_SUITE);
  const securityMirror = pick(SECURITY_SUITE);
  const strip = (url: string | undefined) => url?.replace(/\/+$/, '');
  return {
    ...(mirror ? { mirror: strip(mirror) } : {}),
    ...(securityMirror ? { securityMirror: strip(securityMirror) } : {}),
  };
}

let overrides: Partial<DebianArchiveConfig> = {};

/** Set by the CLI (--ignore-valid-until, …); later debianArchiveConfig() calls see them. */
export function setDebianArchiveOverrides(values: Partial<DebianArchiveConfig>): void {
  overrides = { ...overrides, ...values };
}

const truthy = (value: string | undefined) => value !== undefined && /^(1|yes|true)$/i.test(value);

/** The configuration in effect: CLI overrides, then the environment, then the host's apt sources, then Debian's defaults. */
export function debianArchiveConfig(
  env: NodeJS.ProcessEnv = process.env,
  etc = '/etc/apt',
): DebianArchiveConfig {
  const host = env.KPATCH_DEBIAN_MIRROR && env.KPATCH_DEBIAN_SECURITY_MIRROR ? {} : hostDebianMirrors(etc);
  const keyrings = env.KPATCH_DEBIAN_KEYRING?.split(':').filter(Boolean);
  return {
    mirror: (env.KPATCH_DEBIAN_MIRROR || host.mirror || DEBIAN_DEFAULTS.mirror).replace(/\/+$/, ''),
    securityMirror: (
      env.KPATCH_DEBIAN_SECURITY_MIRROR ||
      host.securityMirror ||
      DEBIAN_DEFAULTS.securityMirror
    ).replace(/\/+$/, ''),
    keyrings: keyrings?.length ? keyrings : [DEBIAN_DEFAULTS.keyring],
    ignoreValidUntil: truthy(env.KPATCH_DEBIAN_IGNORE_VALID_UNTIL),
    maxAgeMs: DEBIAN_DEFAULTS.maxAgeMs,
    ...overrides,
  };
}
