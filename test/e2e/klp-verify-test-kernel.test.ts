import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareTarget } from '../../src/distro/prepare-target.js';
import type { TargetKernel } from '../../src/distro/target.js';
import { buildExternalModule } from '../../src/kbuild/build-external-module.js';
import { EXAMPLES, MODULE_FIXTURES, REPO } from './support/paths.js';
import { runBin } from './support/run-bin.js';

let target: TargetKernel;
let sampleKo: string;
let work: string;

beforeAll(async () => {
  target = await prepareTarget({ kind: 'test' });
  work = await mkdtemp(join(tmpdir(), 'e2e-test-kernel-'));
  [sampleKo = ''] = await buildExternalModule({
    sourceDir: `${EXAMPLES}livepatch-sample`,
    workDir: join(work, 'sample'),
    target,
  });
});

describe('klp-verify on the test kernel', () => {
  it('proves the hand-written livepatch with --unload and reports JSON', async () => {
    const result = await runBin('klp-verify', [
      '--target',
      'test',
      '--module',
      sampleKo,
      '--check',
      'grep -q "served by a livepatch" /proc/cmdline',
      '--unload',
      '--json',
    ]);
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; steps: Array<{ name: string; ok: boolean }> };
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.name)).toEqual([
      'boot',
      'check #1 fails before loading',
      'insmod klp_sample',
      'klp_sample: transition complete',
      'check #1 passes with the livepatch',
      'disable klp_sample',
      'rmmod klp_sample',
      'check #1 fails after unloading',
      'kernel log clean',
    ]);
  });

  it('refuses a check that already passes without the patch', async () => {
    const result = await runBin('klp-verify', [
      '--target',
      'test',
      '--module',
      sampleKo,
      '--check',
      'test -e /proc/cmdline',
    ]);
    expect(result.stdout).toMatch(
      /FAIL check #1 fails before loading: the check already passes without the livepatch/,
    );
    expect(result.exitCode).toBe(4);
  });

  it("reports the loader's message when a module cannot be loaded", async () => {
    const [ko] = await buildExternalModule({
      sourceDir: `${MODULE_FIXTURES}plain-reloc`,
      workDir: join(work, 'plain-reloc'),
      target,
      makeVars: { KBUILD_MODPOST_WARN: '1' },
    });
    const result = await runBin('klp-verify', [
      '--kernel',
      target.image,
      '--module',
      ko!,
      '--check',
      'false',
    ]);
    expect(result.stdout).toMatch(
      /FAIL insmod klp_plain_reloc: the kernel said: .*Unknown symbol saved_command_line/,
    );
    expect(result.exitCode).toBe(4);
  });

  it('fails on a usage error without booting anything', async () => {
    const result = await runBin('klp-verify', ['--target', 'test', '--check', 'true']);
    expect(result.stderr).toMatch(/klp-verify: ERROR: give at least one --module/);
    expect(result.exitCode).toBe(64);
  });
});

describe('klp-verify leaves no VM behind', () => {
  // klp-verify's runs here get a TMPDIR of their own, which its qemu's arguments (the initramfs) name:
  // only those VMs are counted, not other test runs' on the same machine.
  let runTmp: string;
  beforeAll(async () => {
    runTmp = await mkdtemp(join(tmpdir(), 'e2e-no-vm-left-'));
  });
  async function qemuProcesses(): Promise<string[]> {
    const { stdout } = await execa('ps', ['-eo', 'args'], { reject: false });
    return stdout.split('\n').filter((line) => line.includes('qemu-system') && line.includes(runTmp));
  }

  it('kills the VM when the per-boot timeout runs out and says which step it reached', async () => {
    const started = Date.now();
    const result = await runBin(
      'klp-verify',
      ['--kernel', target.image, '--module', sampleKo, '--check', 'sleep 600', '--timeout', '10'],
      { TMPDIR: runTmp },
    );
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(result.stdout).toMatch(/PASS boot/);
    expect(result.stdout).toMatch(/FAIL check #1 fails before loading: the VM timed out before this step/);
    expect(result.exitCode).toBe(4);
    expect(await qemuProcesses()).toEqual([]);
  });

  it('stops the VM on SIGINT and exits 130', async () => {
    const child = execa(
      'node',
      [
        `${REPO}bin/klp-verify.js`,
        '--kernel',
        target.image,
        '--module',
        sampleKo,
        '--check',
        'sleep 600',
        '-d',
      ],
      { reject: false, env: { TMPDIR: runTmp } },
    );
    // Wait until the guest is running its check, then interrupt as a user pressing Ctrl-C would.
    await new Promise<void>((resolve) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('KLPV boot')) resolve();
      });
    });
    expect(await qemuProcesses()).toHaveLength(1); // the filter sees this run's VM while it runs
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toMatch(/ERROR: interrupted by SIGINT/);
    expect(await qemuProcesses()).toEqual([]);
  });
});
