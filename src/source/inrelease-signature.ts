/**
 * Checks a Debian archive's InRelease (a clearsigned Release file) against trusted keyrings and gives back
 * exactly the text that was signed.
 *
 * Verifier: gpgv, not sqv. gpgv is on every Debian host already (apt up to Debian 12 depends on it; this
 * bookworm machine has it, sqv it would have to install), it reads the binary keyrings of
 * debian-archive-keyring as they are, and its --status-fd lines (GOODSIG / VALIDSIG / BADSIG / ERRSIG /
 * EXPKEYSIG …) are a stable, documented machine interface — the one apt itself parsed for a decade. What
 * sqv adds (a hash-algorithm policy) is done here instead: signatures made with MD5, SHA1 or RIPEMD160
 * do not count. `--output` makes gpgv write the signed text, so what is parsed afterwards is what the
 * signature covers — never text around it.
 *
 * Policy, as apt's: at least one good, valid signature (key in the keyring, not expired or revoked, strong
 * hash); any bad signature fails the file; a signature by a key we lack (NO_PUBKEY) is ignored when
 * another one is good (Debian signs with the current and the previous release's keys).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { SourceError } from '../errors.js';
import { abortError } from './abort.js';

export interface SignatureCheck {
  /** The signed text (the Release file). */
  text: string;
  /** Fingerprints of the primary keys whose signatures were good. */
  signers: string[];
}

/** OpenPGP hash algorithm ids too weak to trust (RFC 4880 §9.4): MD5, SHA1, RIPEMD160. */
const WEAK_HASHES = new Set(['1', '2', '3']);

interface StatusSummary {
  good: string[];
  bad: string[];
  problems: string[];
}

/** Reads gpgv's --status-fd lines into good signers and reasons for rejection. */
export function summariseGpgvStatus(status: string): StatusSummary {
  const good: string[] = [];
  const bad: string[] = [];
  const problems: string[] = [];
  let current: { goodsig: boolean } | undefined;
  for (const line of status.split('\n')) {
    const words = line.replace(/^\[GNUPG:\] /, '').split(' ');
    const [tag = '', ...rest] = words;
    if (!line.startsWith('[GNUPG:] ')) continue;
    if (tag === 'NEWSIG') current = { goodsig: false };
    else if (tag === 'GOODSIG') current = { goodsig: true };
    else if (tag === 'BADSIG') bad.push(`bad signature by key ${rest[0]}`);
    else if (tag === 'EXPKEYSIG') problems.push(`signature by expired key ${rest[0]}`);
    else if (tag === 'REVKEYSIG') problems.push(`signature by revoked key ${rest[0]}`);
    else if (tag === 'EXPSIG') problems.push(`expired signature by key ${rest[0]}`);
    else if (tag === 'NO_PUBKEY') problems.push(`signature by key ${rest[0]}, which is not in the keyring`);
    else if (tag === 'ERRSIG' && rest[5] !== '9') problems.push(`unverifiable signature by key ${rest[0]}`);
    else if (tag === 'VALIDSIG') {
      const hashAlgo = rest[7] ?? '';
      const primary = rest[9] ?? rest[0] ?? '';
      if (WEAK_HASHES.has(hashAlgo))
        problems.push(`signature by ${primary} uses a weak hash (id ${hashAlgo})`);
      else if (current?.goodsig) good.push(primary);
    }
  }
  return { good, bad, problems };
}

/** Only a single clearsigned block and nothing around it: a file with extra text is not what apt accepts. */
function checkClearsignedShape(raw: string, name: string): void {
  const begins = raw.match(/^-----BEGIN PGP SIGNED MESSAGE-----$/gm)?.length ?? 0;
  const sigs = raw.match(/^-----BEGIN PGP SIGNATURE-----$/gm)?.length ?? 0;
  const trimmed = raw.trim();
  if (
    begins !== 1 ||
    sigs !== 1 ||
    !trimmed.startsWith('-----BEGIN PGP SIGNED MESSAGE-----') ||
    !trimmed.endsWith('-----END PGP SIGNATURE-----')
  ) {
    throw new SourceError(`${name} is not one clearsigned message`, {
      hint: 'the mirror returned something other than an InRelease file (a captive portal, an error page, or a crafted file); nothing of it was cached',
    });
  }
}

/**
 * Verifies the clearsigned file at `path` with gpgv against `keyrings` and returns its signed text.
 * `name` (e.g. "http://deb.debian.org/debian/dists/trixie/InRelease") is what errors name.
 */
export async function verifyInRelease(
  path: string,
  name: string,
  keyrings: readonly string[],
  signal?: AbortSignal,
): Promise<SignatureCheck> {
  checkClearsignedShape(await readFile(path, 'utf8'), name);
  const work = await mkdtemp(join(tmpdir(), 'kpb-gpgv-'));
  try {
    const out = join(work, 'Release');
    const args = ['--status-fd', '1', ...keyrings.flatMap((k) => ['--keyring', k]), '--output', out, path];
    const result = await execa('gpgv', args, {
      reject: false,
      env: { LC_ALL: 'C', GNUPGHOME: work },
      ...(signal ? { cancelSignal: signal } : {}),
    });
    if (signal?.aborted) throw abortError(signal);
    if (result.exitCode === undefined) {
      const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
      throw new SourceError(`cannot run gpgv to check ${name}: ${code ?? result.shortMessage}`, {
        hint: 'install gpgv (apt-get install gpgv)',
      });
    }
    const summary = summariseGpgvStatus(result.stdout);
    if (summary.bad.length > 0 || summary.good.length === 0) {
      const reasons = [...summary.bad, ...summary.problems];
      throw new SourceError(
        `${name}: signature check failed: ${reasons.join('; ') || result.stderr.trim() || 'no good signature'}`,
        {
          hint:
            `it must be signed by a key in ${keyrings.join(', ')}; a mirror serving a modified or stale file ` +
            'is the usual cause (try another mirror); nothing of it was cached',
        },
      );
    }
    return { text: await readFile(out, 'utf8'), signers: summary.good };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
