import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareTarget } from '../../src/distro/prepare-target.js';
import type { TargetKernel } from '../../src/distro/target.js';
import { buildExternalModule } from '../../src/kbuild/build-external-module.js';
import { EXAMPLES, MODULE_FIXTURES } from './support/paths.js';
import { runBin } from './support/run-bin.js';

// The real Debian bookworm kernel from the Debian registry: its image boots in qemu and the modules are
// built against its own headers package.
describe('klp-verify on the Debian target', () => {
  let target: TargetKernel;
  let work: string;

  beforeAll(async () => {
    target = await prepareTarget({ kind: 'debian', release: 'latest' });
    work = await mkdtemp(join(tmpdir(), 'e2e-debian-'));
  });

  it('prepared the target with kallsyms read from the booted image', async () => {
    expect(target.release).toMatch(/^6\.1\.0-\d+-amd64$/);
    const kallsyms = await readFile(target.symbols.path, 'utf8');
    const lines = kallsyms.split('\n');
    expect(lines.length).toBeGreaterThan(50_000);
    expect(kallsyms).toMatch(/^ffffffff[0-9a-f]{8} [tT] cmdline_proc_show$/m);
    // Not exported, so only kallsyms (not Module.symvers) knows it.
    expect(kallsyms).toMatch(/^ffffffff[0-9a-f]{8} [dDbB] saved_command_line$/m);
    const symvers = await readFile(target.moduleSymvers, 'utf8');
    expect(symvers).toMatch(/\tseq_puts\tvmlinux\t/);
    expect(symvers).not.toMatch(/\tsaved_command_line\t/);
  });

  it('proves a hand-written livepatch: fails before, passes loaded, fails after --unload', async () => {
    const [ko] = await buildExternalModule({
      sourceDir: `${EXAMPLES}livepatch-sample`,
      workDir: join(work, 'sample'),
      target,
    });
    const result = await runBin('klp-verify', [
      '--target',
      `debian:${target.release}`,
      '--module',
      ko!,
      '--check',
      'cat /proc/cmdline; grep -q "served by a livepatch" /proc/cmdline',
      '--unload',
    ]);
    expect(result.stderr).not.toMatch(/ERROR/);
    expect(result.stdout).toContain('PASS check #1 fails before loading');
    expect(result.stdout).toContain('PASS insmod klp_sample: ok');
    expect(result.stdout).toContain('PASS klp_sample: transition complete');
    expect(result.stdout).toContain('klp_sample: /proc/cmdline is served by a livepatch');
    expect(result.stdout).toContain('PASS check #1 passes with the livepatch');
    expect(result.stdout).toContain('PASS rmmod klp_sample');
    expect(result.stdout).toContain('PASS check #1 fails after unloading');
    expect(result.stdout).toContain('PASS kernel log clean');
    expect(result.stdout).toMatch(/SUCCESS/);
    expect(result.exitCode).toBe(0);
  });

  it("fails with the loader's own message for a module with a plain reference to a non-exported symbol", async () => {
    const [ko] = await buildExternalModule({
      sourceDir: `${MODULE_FIXTURES}plain-reloc`,
      workDir: join(work, 'plain-reloc'),
      target,
      // modpost would stop the build on the unresolved symbol; the point is to show the loader refusing it.
      makeVars: { KBUILD_MODPOST_WARN: '1' },
    });
    const result = await runBin('klp-verify', [
      '--target',
      `debian:${target.release}`,
      '--module',
      ko!,
      '--check',
      'grep -q plain_reloc=1 /proc/cmdline',
    ]);
    expect(result.stdout).toMatch(
      /FAIL insmod klp_plain_reloc: the kernel said: .*klp_plain_reloc: Unknown symbol saved_command_line \(err -2\)/,
    );
    expect(result.stdout).toMatch(/FAILED/);
    expect(result.stderr).toMatch(/ERROR: insmod klp_plain_reloc/);
    expect(result.exitCode).toBe(4);
  });
});
