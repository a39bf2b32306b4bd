import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareTarget } from '../../src/distro/prepare-target.js';
import type { TargetKernel } from '../../src/distro/target.js';
import { EXAMPLES } from './support/paths.js';
import { runBin } from './support/run-bin.js';

// Bad input met by the real tool on real trees: patch hunks that need fuzz or land at an offset in the
// built test kernel, and a Debian release the archive does not have.
let target: TargetKernel;
let dir: string;
let fuzzy: string;
let shifted: string;

beforeAll(async () => {
  target = await prepareTarget({ kind: 'test' });
  dir = await mkdtemp(join(tmpdir(), 'e2e-bad-input-'));
  const cmdline = await readFile(`${EXAMPLES}cmdline.patch`, 'utf8');
  // One context line the tree does not have: GNU patch would apply the hunk with fuzz.
  fuzzy = join(dir, 'fuzzy.patch');
  await writeFile(
    fuzzy,
    cmdline.replace(
      ' static int cmdline_proc_show(struct seq_file *m, void *v)',
      ' static int cmdline_proc_show(struct seq_file *m, void *unused)',
    ),
  );
  // The right context, three lines off: applies at an offset, which is reported.
  shifted = join(dir, 'shifted.patch');
  await writeFile(shifted, cmdline.replace('@@ -6,8 +6,7 @@', '@@ -9,8 +9,7 @@'));
});

describe('kpatch-build on the test kernel: hunks applied explicitly', () => {
  it('refuses a hunk that needs fuzz (65), showing the hunk and the line that differs', async () => {
    const result = await runBin('kpatch-build', ['-s', target.sourceDir!, '-o', dir, fuzzy]);
    expect(result.stderr).toContain(
      'fs/proc/cmdline.c: hunk #1 @@ -6,8 +6,7 @@: fuzz: applies only with fuzz',
    );
    expect(result.stderr).toContain(
      'line 7: the patch expects "static int cmdline_proc_show(struct seq_file *m, void *unused)", the file has "static int cmdline_proc_show(struct seq_file *m, void *v)"',
    );
    expect(result.stderr).toMatch(/hint: .*--allow-fuzz/);
    expect(result.exitCode).toBe(65);
    expect(await readdir(dir)).not.toContain('livepatch-fuzzy.ko');
  });

  it('builds it with --allow-fuzz and reports the fuzz in the log and the JSON', async () => {
    const result = await runBin('kpatch-build', [
      '-s',
      target.sourceDir!,
      '-o',
      dir,
      '--allow-fuzz',
      '--json',
      fuzzy,
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(
      /fuzzy\.patch: fs\/proc\/cmdline\.c: hunk #1 @@ -6,8 \+6,7 @@ applied at its line with fuzz 2/,
    );
    const report = JSON.parse(result.stdout) as {
      hunks: Array<{ file: string; hunk: number; fuzz: number }>;
    };
    expect(report.hunks.map((h) => [h.file, h.hunk, h.fuzz])).toEqual([['fs/proc/cmdline.c', 1, 2]]);
  });

  it('reports a hunk applied at an offset, per hunk, and builds', async () => {
    const result = await runBin('kpatch-build', ['-s', target.sourceDir!, '-o', dir, '--json', shifted]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(
      /shifted\.patch: fs\/proc\/cmdline\.c: hunk #1 @@ -9,8 \+9,7 @@ applied at offset -3 lines$/m,
    );
    const report = JSON.parse(result.stdout) as { hunks: Array<{ offset: number; fuzz: number }> };
    expect(report.hunks.map((h) => [h.offset, h.fuzz])).toEqual([[-3, 0]]);
  });
});

describe('kpatch-build --distro debian with bad input, on an empty cache', () => {
  it('a release the archive lacks exits 66 and leaves no cache entry', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'e2e-bad-input-cache-'));
    const result = await runBin(
      'kpatch-build',
      ['--distro', 'debian', '-a', '6.1.0-99-amd64', '-o', dir, `${EXAMPLES}cmdline.patch`],
      { CACHEDIR: cache },
    );
    // The archive client's words: the suite, the release, the packages it lacks, and what it carries.
    expect(result.stderr).toMatch(
      /ERROR: bookworm does not carry 6\.1\.0-99-amd64: linux-image-6\.1\.0-99-amd64-unsigned[^\n]* not in bookworm/,
    );
    expect(result.stderr).toMatch(/hint: releases bookworm carries today: 6\.1\.0-\d+-amd64/);
    expect(result.exitCode).toBe(66);
    expect(await readdir(join(cache, 'targets', 'debian'))).toEqual([]);
  });

  it('a missing patch exits 64 before anything is downloaded', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'e2e-bad-input-cache-'));
    const result = await runBin(
      'kpatch-build',
      ['--distro', 'debian', '-a', '6.1.0-57-amd64', '-o', dir, join(dir, 'missing.patch')],
      { CACHEDIR: cache },
    );
    expect(result.stderr).toMatch(/ERROR: patch .*missing\.patch: no such file or directory/);
    expect(result.exitCode).toBe(64);
    expect(await readdir(cache)).toEqual([]);
  });
});
