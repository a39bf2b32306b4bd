import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareTarget } from '../../src/distro/prepare-target.js';
import type { TargetKernel } from '../../src/distro/target.js';
import { buildExternalModule } from '../../src/kbuild/build-external-module.js';
import { relocationTable, sectionStrings, sectionTable, symbolTable } from '../klp/support/readelf.js';
import { EXAMPLES, REPO } from './support/paths.js';
import { runBin } from './support/run-bin.js';

// The three kbuild examples, converted with klp-convert against the real Debian bookworm kernel (symbols
// from its /proc/kallsyms dump, exports from its headers' Module.symvers), then proven in qemu.
describe('klp-convert on the Debian target', () => {
  let target: TargetKernel;
  let work: string;
  let kallsyms: string;

  // klp-module-reloc.h comes from the repository; modpost must only warn about the symbols klp-convert
  // resolves later (it cannot know them: they are not exported).
  const makeVars = { KLP_INCLUDE: `${REPO}include`, KBUILD_MODPOST_WARN: '1' };

  const build = async (example: string, name: string, extra: Record<string, string> = {}) => {
    const [ko] = await buildExternalModule({
      sourceDir: `${EXAMPLES}${example}`,
      workDir: join(work, name),
      target,
      makeVars: { ...makeVars, ...extra },
    });
    return ko!;
  };

  const convert = (input: string, output: string, extra: string[] = []) =>
    runBin('klp-convert', [
      '--system-map',
      target.symbols.path,
      '--module-symvers',
      target.moduleSymvers,
      ...extra,
      input,
      output,
    ]);

  const verify = (module: string, check: string, extra: string[] = []) =>
    runBin('klp-verify', [
      '--target',
      `debian:${target.release}`,
      '--module',
      module,
      '--check',
      check,
      '--unload',
      ...extra,
    ]);

  const expectProven = (result: Awaited<ReturnType<typeof verify>>, name: string) => {
    expect(result.stdout).toContain('PASS check #1 fails before loading');
    expect(result.stdout).toContain(`PASS insmod ${name}: ok`);
    expect(result.stdout).toContain(`PASS ${name}: transition complete`);
    expect(result.stdout).toContain('PASS check #1 passes with the livepatch');
    expect(result.stdout).toContain(`PASS rmmod ${name}`);
    expect(result.stdout).toContain('PASS check #1 fails after unloading');
    expect(result.stdout).toContain('PASS kernel log clean');
    expect(result.stdout).not.toMatch(/FAIL/);
    expect(result.stdout).toMatch(/SUCCESS/);
    expect(result.exitCode).toBe(0);
  };

  beforeAll(async () => {
    target = await prepareTarget({ kind: 'debian', release: 'latest' });
    work = await mkdtemp(join(tmpdir(), 'e2e-klp-convert-'));
    kallsyms = await readFile(target.symbols.path, 'utf8');
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('kbuild-cmdline: the kbuild module fails to load; converted, it changes /proc/cmdline and unloads', async () => {
    const ko = await build('kbuild-cmdline', 'cmdline');
    const plain = await verify(ko, 'grep -q " livepatch=1$" /proc/cmdline');
    expect(plain.stdout).toMatch(/FAIL insmod klp_cmdline: .*Unknown symbol saved_command_line \(err -2\)/);
    expect(plain.exitCode).toBe(4);

    const out = join(work, 'klp_cmdline.ko');
    const converted = await convert(ko, out);
    expect(converted.stderr).toBe('');
    expect(converted.stdout).toContain(
      'saved_command_line -> .klp.sym.vmlinux.saved_command_line,0 (declared in .klp.module_relocs.vmlinux[0]; 1 relocation)',
    );
    expect(converted.exitCode).toBe(0);
    const sections = await sectionTable(out);
    expect(sections.get('.klp.rela.vmlinux..text')).toMatchObject({
      type: 'RELA',
      flags: 'AIo',
      entsize: 24,
    });
    expect([...sections.keys()].filter((n) => n.includes('module_relocs'))).toEqual([]);
    expect((await relocationTable(out)).get('.klp.rela.vmlinux..text')?.map((r) => r.symbol)).toEqual([
      '.klp.sym.vmlinux.saved_command_line,0',
    ]);
    expect((await symbolTable(out)).filter((s) => s.name === 'saved_command_line')).toEqual([]);

    const result = await verify(out, 'cat /proc/cmdline; grep -q " livepatch=1$" /proc/cmdline');
    expectProven(result, 'klp_cmdline');
    expect(result.stdout).toMatch(/\| .* livepatch=1\n/);
  });

  it('kbuild-sympos: refused without KLP_SYMPOS, listing both load_elf_binary; with position 2 it prints that one', async () => {
    // Debian's vmlinux has load_elf_binary() twice: fs/binfmt_elf.c and fs/compat_binfmt_elf.c.
    const addresses = [...kallsyms.matchAll(/^([0-9a-f]{16}) t load_elf_binary$/gm)].map((m) => m[1]!);
    expect(addresses).toHaveLength(2);

    const unannotated = await build('kbuild-sympos', 'sympos-none', { LOAD_ELF_BINARY_POS: '0' });
    const refused = await convert(unannotated, join(work, 'refused.ko'));
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(
      /symbol load_elf_binary \(used in \.text\) is ambiguous: vmlinux has 2 symbols/,
    );
    expect(refused.stderr).toContain(`KLP_SYMPOS(load_elf_binary, 1)  ${addresses[0]} t`);
    expect(refused.stderr).toContain(`KLP_SYMPOS(load_elf_binary, 2)  ${addresses[1]} t`);

    const ko = await build('kbuild-sympos', 'sympos');
    const out = join(work, 'klp_sympos.ko');
    const converted = await convert(ko, out);
    expect(converted.stdout).toContain('load_elf_binary -> .klp.sym.vmlinux.load_elf_binary,2');
    expect(converted.stdout).toContain(
      'saved_command_line -> .klp.sym.vmlinux.saved_command_line,0 (unique name',
    );
    expect(converted.exitCode).toBe(0);

    const result = await verify(
      out,
      `cat /proc/cmdline; grep -q " load_elf_binary=${addresses[1]}$" /proc/cmdline`,
    );
    expectProven(result, 'klp_sympos');
    expect(result.stdout).toContain(`load_elf_binary=${addresses[1]}\n`);
  });

  describe('kbuild-late-module: a livepatch for binfmt_misc', () => {
    let binfmt: string;
    let out: string;
    const check =
      'grep -q binfmt_misc /proc/mounts || mount -t binfmt_misc none /proc/sys/fs/binfmt_misc; ' +
      'cat /proc/sys/fs/binfmt_misc/status && grep -qx "enabled (livepatched)" /proc/sys/fs/binfmt_misc/status';

    beforeAll(async () => {
      binfmt = join(target.modulesDir!, 'kernel/fs/binfmt_misc.ko');
      // No dependencies, so the verifier can insmod it alone.
      expect(await sectionStrings(binfmt, '.modinfo')).toContain('depends=');
      const ko = await build('kbuild-late-module', 'late');
      out = join(work, 'klp_late_binfmt.ko');
      const converted = await convert(ko, out, ['--target-module', binfmt]);
      expect(converted.stdout).toContain('enabled -> .klp.sym.binfmt_misc.enabled,0');
      expect(converted.exitCode).toBe(0);
      const sections = await sectionTable(out);
      expect(sections.get('.klp.rela.binfmt_misc..text')).toMatchObject({ type: 'RELA', flags: 'AIo' });
      expect([...sections.keys()].filter((n) => n.startsWith('.klp.rela.vmlinux'))).toEqual([]);
    });

    it('is applied when binfmt_misc loads after the patch', async () => {
      const result = await verify(out, check, ['--late-module', binfmt]);
      expectProven(result, 'klp_late_binfmt');
      expect(result.stdout).toContain('PASS load binfmt_misc.ko after the patch');
      expect(result.stdout).toContain('| enabled (livepatched)');
    });

    it('is applied to binfmt_misc loaded before the patch', async () => {
      const result = await verify(out, check, ['--extra-module', binfmt]);
      expectProven(result, 'klp_late_binfmt');
    });
  });
});
