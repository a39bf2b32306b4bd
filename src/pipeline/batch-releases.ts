/**
 * The releases a batch builds: the -a values with "all" / "all-<flavour>" expanded to every kernel
 * release of the Debian suite the archive still carries (of that flavour; amd64 by default) and "latest"
 * to the release the suite's metapackage names today, made unique,
 * sorted the same way on every machine, then cut to this machine's --shard.
 */
import { debianData, debianLayout, hostDebianSuite } from '../distro/debian-layout.js';
import { latestSuiteRelease, listSuiteReleases } from '../distro/debian-suite-index.js';
import { detectDistro } from '../distro/detect-distro.js';
import { UsageError } from '../errors.js';
import type { ArchiveOptions } from '../source/debian-archive.js';
import { debianArchiveConfig } from '../source/debian-mirrors.js';

/** --shard I/N: this machine builds shard `index` (1-based, as "part 1 of 3") of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** "all" → the default flavour (undefined), "all-cloud-amd64" → "cloud-amd64"; other names → null. */
export function allReleasesFlavour(release: string): string | undefined | null {
  if (release === 'all') return undefined;
  return release.startsWith('all-') && release.length > 'all-'.length ? release.slice('all-'.length) : null;
}

const collator = new Intl.Collator('en', { numeric: true });

/** The order every machine agrees on: unique names, numbers compared as numbers (6.1.0-9 before 6.1.0-10). */
export function sortReleases(releases: readonly string[]): string[] {
  return [...new Set(releases)].sort(collator.compare);
}

/** The releases of shard I/N: of the sorted list, the k-th (1-based) goes to shard ((k - 1) mod N) + 1. */
export function releasesOfShard(sorted: readonly string[], shard: Shard | undefined): string[] {
  if (!shard) return [...sorted];
  return sorted.filter((_, position) => position % shard.count === shard.index - 1);
}

export interface BatchSelection {
  /** -a values as given ("all", "all-rt-amd64" or release names). */
  releases: readonly string[];
  /** --distro as given (else /etc/os-release). */
  distro: string | undefined;
  shard?: Shard | undefined;
}

export interface ResolvedBatch {
  /** Every release of the batch, sorted (what the shards split). */
  all: string[];
  /** This machine's part of it. */
  mine: string[];
  /** The suite "all" was read from, when used. */
  suite: string | undefined;
}

/** The suite "all" and "latest" are read from: --suite, else the host's. */
function suiteForAll(): string {
  const suite = debianArchiveConfig().suite ?? hostDebianSuite();
  if (suite) return suite;
  throw new UsageError('-a all needs a Debian suite and this host is not one kpatch-build knows', {
    hint: 'add --suite bookworm (or trixie, forky, sid)',
  });
}

function checkFlavour(flavour: string): void {
  const flavours = debianData().flavours;
  if (!flavours.includes(flavour)) {
    throw new UsageError(`-a all-${flavour}: Debian has no kernel flavour "${flavour}"`, {
      hint: `write -a all (amd64) or one of ${flavours.map((f) => `-a all-${f}`).join(', ')}`,
    });
  }
}

/** Every release of `suite`'s archive of one flavour, as listSuiteReleases gives them. */
async function suiteReleasesOf(suite: string, flavour: string, options: ArchiveOptions): Promise<string[]> {
  const releases = await listSuiteReleases(suite, options);
  return releases.filter((r) => debianLayout(r, suite).flavour === flavour);
}

export async function resolveBatchReleases(
  selection: BatchSelection,
  options: ArchiveOptions = {},
): Promise<ResolvedBatch> {
  const named: string[] = [];
  let suite: string | undefined;
  for (const release of selection.releases) {
    const flavour = allReleasesFlavour(release);
    const debian = detectDistro(selection.distro) === 'debian';
    if (release === 'latest' && debian) {
      // Named, so its directory, its place in the order and its shard are those of the real release.
      suite = suiteForAll();
      named.push(await latestSuiteRelease(suite, undefined, options));
      continue;
    }
    if (flavour === null) {
      named.push(release);
      continue;
    }
    if (!debian) {
      throw new UsageError(
        `-a ${release} lists the releases of a Debian suite; the target distro is not Debian`,
        {
          hint: 'add --distro debian, or name the releases (-a REL -a REL ...)',
        },
      );
    }
    const chosen = flavour ?? debianData().flavours[0] ?? 'amd64';
    checkFlavour(chosen);
    suite = suiteForAll();
    named.push(...(await suiteReleasesOf(suite, chosen, options)));
  }
  const all = sortReleases(named);
  return { all, mine: releasesOfShard(all, selection.shard), suite };
}
