import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareTarget } from '../../src/distro/prepare-target.js';
import type { TargetKernel } from '../../src/distro/target.js';
import { EXAMPLES } from './support/paths.js';
import { runBin } from './support/run-bin.js';

// Debian's kernel is built with debug info, which records the directories compiles ran in: the case where
// a temporary work directory would leak into the module.
describe("reproducible modules for Debian's kernel", () => {
  let target: TargetKernel;
  let work: string;

  beforeAll(async () => {
    target = await prepareTarget({ kind: 'debian', release: 'latest' });
    work = await mkdtemp(join(tmpdir(), 'e2e-reproducible-'));
  });

  it('two runs of the same patch give byte-identical .ko files with no temporary paths in them', async () => {
    const modules: Buffer[] = [];
    for (const run of ['one', 'two']) {
      // Each run's work directories live under a different TMPDIR.
      const tmp = join(work, `tmp-${run}`);
      await mkdir(tmp);
      const out = join(work, `out-${run}`);
      const result = await runBin(
        'kpatch-build',
        ['--distro', 'debian', '-a', target.release, '-o', out, `${EXAMPLES}cmdline.patch`],
        { TMPDIR: tmp },
      );
      expect(result.stderr).toContain(`SUCCESS: ${out}/livepatch-cmdline.ko`);
      expect(result.exitCode).toBe(0);
      const ko = await readFile(join(out, 'livepatch-cmdline.ko'));
      expect(ko.includes(tmp), `${tmp} is in the module`).toBe(false);
      // mkdtemp's work directories (kpatch-build-XXXXXX), wherever TMPDIR is.
      expect(ko.toString('latin1')).not.toMatch(/kpatch-build-[A-Za-z0-9]{6}\//);
      modules.push(ko);
    }
    // The module has debug info, so the check above is about something that is there to leak.
    expect(modules[0]?.includes('.debug_info')).toBe(true);
    expect(modules[0]?.equals(modules[1] as Buffer)).toBe(true);
  });
});
