import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareTarget } from '../../src/distro/prepare-target.js';
import type { TargetKernel } from '../../src/distro/target.js';
import { buildExternalModule } from '../../src/kbuild/build-external-module.js';
import { EXAMPLES, REPO } from './support/paths.js';
import { runBin } from './support/run-bin.js';

// klp-convert with symbols from an unstripped vmlinux ELF: the small test kernel built from Debian's
// source keeps its vmlinux, so this is the --vmlinux path on a real kernel.
describe('klp-convert --vmlinux on the test kernel', () => {
  let target: TargetKernel;
  let work: string;
  const makeVars = { KLP_INCLUDE: `${REPO}include`, KBUILD_MODPOST_WARN: '1' };

  beforeAll(async () => {
    target = await prepareTarget({ kind: 'test' });
    work = await mkdtemp(join(tmpdir(), 'e2e-klp-convert-test-'));
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('converts kbuild-cmdline with the vmlinux symbol table and the patch works', async () => {
    expect(target.vmlinux).toBeDefined();
    const [ko] = await buildExternalModule({
      sourceDir: `${EXAMPLES}kbuild-cmdline`,
      workDir: join(work, 'cmdline'),
      target,
      makeVars,
    });
    const out = join(work, 'klp_cmdline.ko');
    const converted = await runBin('klp-convert', [
      '--vmlinux',
      target.vmlinux!,
      '--module-symvers',
      target.moduleSymvers,
      ko!,
      out,
    ]);
    expect(converted.stdout).toContain('saved_command_line -> .klp.sym.vmlinux.saved_command_line,0');
    expect(converted.exitCode).toBe(0);
    const result = await runBin('klp-verify', [
      '--target',
      'test',
      '--module',
      out,
      '--check',
      'cat /proc/cmdline; grep -q " livepatch=1$" /proc/cmdline',
      '--unload',
    ]);
    expect(result.stdout).toContain('PASS check #1 passes with the livepatch');
    expect(result.stdout).toContain('PASS check #1 fails after unloading');
    expect(result.stdout).toContain('PASS kernel log clean');
    expect(result.exitCode).toBe(0);
  });

  it('refuses a position the kernel does not have, naming the source file from the symbol table', async () => {
    // The test kernel has no 32-bit compat, so one load_elf_binary (fs/binfmt_elf.c) instead of Debian's two.
    const map = await readFile(target.symbols.path, 'utf8');
    const [address] = [...map.matchAll(/^([0-9a-f]{16}) t load_elf_binary$/gm)].map((m) => m[1]);
    expect(address).toBeDefined();
    const [ko] = await buildExternalModule({
      sourceDir: `${EXAMPLES}kbuild-sympos`,
      workDir: join(work, 'sympos'),
      target,
      makeVars,
    });
    const refused = await runBin('klp-convert', ['--vmlinux', target.vmlinux!, ko!, join(work, 'sympos.ko')]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(
      `KLP_SYMPOS(load_elf_binary, 2) in .klp.module_relocs.vmlinux[0]: vmlinux has only 1 symbol named load_elf_binary:\n` +
        `      KLP_SYMPOS(load_elf_binary, 1)  ${address} t  binfmt_elf.c`,
    );
  });
});
