/**
 * The Debian archive client's costs, per suite, on the real archive:
 *   node --import tsx bench/debian-archive.ts [SUITE...]       (default: bookworm trixie)
 * cold: an empty cache (a temp CACHEDIR): every pocket's InRelease fetched + gpgv-verified, its
 *       Packages.xz fetched by hash + SHA256-checked, decompressed and scanned for linux-* stanzas;
 * warm: the same cache again within maxAge (verified InRelease reused and re-verified, summary JSON read);
 * verify: one gpgv check of a cached InRelease alone; plus peak RSS.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listSuiteReleases, loadDebianSuite } from '../src/distro/debian-suite-index.js';
import { openSuite, readPackagesIndex } from '../src/source/debian-archive.js';
import { debianArchiveConfig } from '../src/source/debian-mirrors.js';
import { verifyInRelease } from '../src/source/inrelease-signature.js';

const suites = process.argv.slice(2).length ? process.argv.slice(2) : ['bookworm', 'trixie'];
const config = debianArchiveConfig();
const ms = (start: number) => `${(performance.now() - start).toFixed(0)} ms`;

for (const suite of suites) {
  const cacheDir = await mkdtemp(join(tmpdir(), 'kpb-bench-archive-'));
  try {
    // Cold, phase by phase, for each pocket of the suite.
    const { debianData } = await import('../src/distro/debian-layout.js');
    for (const pocket of debianData().suites[suite]?.pockets ?? []) {
      const mirror = pocket.mirror === 'security' ? config.securityMirror : config.mirror;
      let t = performance.now();
      const opened = await openSuite(mirror, pocket.suite, { cacheDir, config });
      const inRelease = ms(t);
      if (!opened) {
        console.log(`${pocket.suite}: not on ${mirror}`);
        continue;
      }
      t = performance.now();
      const found = await readPackagesIndex(
        opened,
        'main',
        'amd64',
        { key: 'linux', select: (n) => n.startsWith('linux-') },
        { cacheDir, config },
      );
      const size = opened.release.files.get('main/binary-amd64/Packages.xz')?.size ?? 0;
      console.log(
        `cold ${pocket.suite}: InRelease fetch+verify ${inRelease}; Packages.xz (${(size / 1e6).toFixed(1)} MB) fetch+check+scan ${ms(t)} → ${found.length} linux-* stanzas`,
      );
    }
    const dir = join(cacheDir, 'downloads/debian');
    const host = (await readdir(dir)).find((d) => !d.startsWith('.') && d !== 'indexes') ?? '';
    const file = join(dir, host, suite, 'InRelease');
    let t = performance.now();
    await verifyInRelease(file, file, config.keyrings);
    console.log(`verify ${suite} InRelease (gpgv) alone: ${ms(t)}`);
    t = performance.now();
    await loadDebianSuite(suite, { cacheDir, config });
    const releases = await listSuiteReleases(suite, { cacheDir, config });
    console.log(`warm ${suite}: all pockets + list ${releases.length} releases: ${ms(t)}`);
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
