import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listSuiteReleases } from '../../src/distro/debian-suite-index.js';
import { readElfFile } from '../../src/elf/index.js';
import { modinfoValue } from '../../src/module/modinfo.js';
import { EXAMPLES } from './support/paths.js';
import { runBin } from './support/run-bin.js';

// Release tooling: one fix for several releases of a suite in one run, each module built against (and
// proven in) its own Debian kernel. The two newest bookworm amd64 releases the archive carries: the
// newest is the one every Debian e2e test prepares; the other costs one download, prepare and boot
// (measured cold: 108 s on 2 cores), then is cached like the first.
let releases: string[];
let amd64: string[];

beforeAll(async () => {
  amd64 = (await listSuiteReleases('bookworm')).filter((r) => /^\d+\.\d+\.\d+-\d+-amd64$/.test(r));
  releases = amd64.slice(-2);
  expect(releases).toHaveLength(2);
});

async function vermagicRelease(ko: string): Promise<string | undefined> {
  return modinfoValue(await readElfFile(ko), 'vermagic')?.split(' ')[0];
}

describe('kpatch-build --distro debian --suite bookworm -a REL -a REL', () => {
  it('builds one module per release, each for its release and working in its kernel', async () => {
    const out = await mkdtemp(join(tmpdir(), 'e2e-kpatch-batch-'));
    const result = await runBin('kpatch-build', [
      '--distro',
      'debian',
      '--suite',
      'bookworm',
      ...releases.flatMap((r) => ['-a', r]),
      '-o',
      out,
      '--verify',
      '--check',
      'grep -q " livepatch=1$" /proc/cmdline',
      `${EXAMPLES}cmdline.patch`,
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual([...releases].sort());
    for (const release of releases) {
      const ko = join(out, release, 'livepatch-cmdline.ko');
      expect(await vermagicRelease(ko)).toBe(release);
      expect(result.stdout).toMatch(new RegExp(`^${release}\\s+built\\s+${ko}$`, 'm'));
      expect(result.stderr).toContain(`SUCCESS: ${ko}`);
    }
    expect(result.stdout).toMatch(/^RELEASE\s+VERDICT\s+DETAIL$/m);
    expect(result.stdout).toContain('2 of 2 releases built');
  });

  it('reports a release the archive does not carry in the table and --json, builds the rest, exits 5', async () => {
    const out = await mkdtemp(join(tmpdir(), 'e2e-kpatch-batch-'));
    const known = releases[1] as string;
    const result = await runBin('kpatch-build', [
      '--distro',
      'debian',
      '--suite',
      'bookworm',
      '-a',
      known,
      '-a',
      '6.1.0-1-amd64',
      '-o',
      out,
      '--json',
      `${EXAMPLES}cmdline.patch`,
    ]);
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toMatch(/^6\.1\.0-1-amd64\s+refused\s+bookworm does not carry 6\.1\.0-1-amd64/m);
    expect(result.stderr).toMatch(new RegExp(`^${known}\\s+built\\s`, 'm'));
    expect(result.stderr).toContain(
      'kpatch-build: ERROR: 1 of 2 releases not built: 6.1.0-1-amd64 (refused)',
    );
    const report = JSON.parse(result.stdout) as {
      built: number;
      total: number;
      releases: { release: string; verdict: string; hint?: string; report?: { module: string } }[];
    };
    expect(report).toMatchObject({ built: 1, total: 2 });
    const byRelease = new Map(report.releases.map((r) => [r.release, r]));
    expect(byRelease.get(known)?.report?.module).toBe(join(out, known, 'livepatch-cmdline.ko'));
    expect(byRelease.get('6.1.0-1-amd64')).toMatchObject({ verdict: 'refused' });
    expect(byRelease.get('6.1.0-1-amd64')?.hint).toContain(`releases bookworm carries today:`);
    expect(await vermagicRelease(join(out, known, 'livepatch-cmdline.ko'))).toBe(known);
    expect(await readdir(out)).toEqual([known]);
  });

  it("-a all --shard N/N: the suite's releases sorted and dealt out, the last one built here", async () => {
    // N = the number of amd64 releases: shard N/N is exactly the newest (numbers sort as numbers), which
    // every Debian e2e test has prepared, so this costs one warm build.
    const out = await mkdtemp(join(tmpdir(), 'e2e-kpatch-batch-'));
    const n = amd64.length;
    const result = await runBin('kpatch-build', [
      '--distro',
      'debian',
      '--suite',
      'bookworm',
      '-a',
      'all',
      '--shard',
      `${n}/${n}`,
      '-o',
      out,
      '--json',
      `${EXAMPLES}cmdline.patch`,
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      batch: string[];
      shard: unknown;
      releases: { release: string; verdict: string }[];
    };
    expect(report.batch).toEqual(amd64); // the archive's order (by package version) is the numeric one
    expect(report.shard).toEqual({ index: n, count: n });
    expect(report.releases).toEqual([expect.objectContaining({ release: amd64[n - 1], verdict: 'built' })]);
    expect(await readdir(out)).toEqual([amd64[n - 1]]);
    expect(result.stderr).toContain(`(shard ${n}/${n})`);
  });
});
