/**
 * A Debian archive's Release file (the signed text of InRelease): which suite it is, when it was made,
 * until when it may be trusted (Valid-Until), and the SHA256 and size of every index below dists/<suite>/.
 */
import { SourceError } from '../errors.js';
import type { FileChecksum, Paragraph } from './deb822.js';
import { parseDeb822, sha256Lines } from './deb822.js';

export interface ReleaseInfo {
  suite: string;
  codename: string;
  /** Milliseconds since the epoch. */
  date: number;
  /** Milliseconds since the epoch; undefined when the Release file sets no limit (stable releases). */
  validUntil: number | undefined;
  /** Indexes may be fetched under by-hash/SHA256/<digest> (no race with a mirror update). */
  acquireByHash: boolean;
  files: Map<string, FileChecksum>;
}

/** The option that accepts an expired Release file, named in the refusal. */
export const IGNORE_VALID_UNTIL_HINT =
  'pass --ignore-valid-until (or set KPATCH_DEBIAN_IGNORE_VALID_UNTIL=1) to accept it anyway, as apt does with -o Acquire::Check-Valid-Until=false';

function parseDate(value: string | undefined, field: string, where: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new SourceError(`${where}: unreadable ${field} "${value}"`, {
      hint: 'the Release file is corrupt',
    });
  }
  return ms;
}

/** A Release file's paragraph and its SHA256 list (which must not be empty). */
export function releaseParagraph(
  text: string,
  where: string,
): { paragraph: Paragraph; list: FileChecksum[] } {
  const [paragraph] = parseDeb822(text, where);
  if (!paragraph)
    throw new SourceError(`${where}: empty Release file`, { hint: 'the mirror returned nothing useful' });
  const list = sha256Lines(paragraph, 'SHA256', where, true);
  if (list.length === 0) {
    throw new SourceError(`${where}: no SHA256 list`, {
      hint: 'only archives with SHA256 Release files are supported',
    });
  }
  return { paragraph, list };
}

/** Parses the signed text of an InRelease file. `where` names it in errors. */
export function parseRelease(text: string, where: string): ReleaseInfo {
  const { paragraph, list } = releaseParagraph(text, where);
  return {
    suite: paragraph.field('Suite') ?? '',
    codename: paragraph.field('Codename') ?? '',
    date: parseDate(paragraph.required('Date', where), 'Date', where) ?? 0,
    validUntil: parseDate(paragraph.field('Valid-Until'), 'Valid-Until', where),
    acquireByHash: paragraph.field('Acquire-By-Hash')?.toLowerCase() === 'yes',
    files: new Map(list.map((f) => [f.name, f])),
  };
}

export interface ValidityOptions {
  /** Accept a Release file past its Valid-Until (apt: Acquire::Check-Valid-Until=false). */
  ignoreValidUntil?: boolean;
  /** "Now", for tests. */
  now?: number;
}

/** Clock skew tolerated before a Release file counts as "from the future". */
const FUTURE_SLACK_MS = 10 * 60_000;

/**
 * Refuses a Release file of another suite (a replayed one), one past its Valid-Until, or one dated in
 * the future — the checks apt makes.
 */
export function checkRelease(
  release: ReleaseInfo,
  suite: string,
  where: string,
  options: ValidityOptions = {},
): void {
  if (release.codename !== suite && release.suite !== suite) {
    throw new SourceError(`${where} is for suite "${release.codename || release.suite}", not "${suite}"`, {
      hint: 'the mirror serves another suite under this name (misconfigured or crafted); nothing of it was cached',
    });
  }
  const now = options.now ?? Date.now();
  if (release.date > now + FUTURE_SLACK_MS) {
    throw new SourceError(`${where} is dated ${new Date(release.date).toISOString()}, in the future`, {
      hint: "check this machine's clock",
    });
  }
  if (release.validUntil !== undefined && release.validUntil < now && !options.ignoreValidUntil) {
    throw new SourceError(
      `${where} expired on ${new Date(release.validUntil).toISOString()} (Valid-Until); its indexes may be stale or replayed`,
      { hint: IGNORE_VALID_UNTIL_HINT },
    );
  }
}
