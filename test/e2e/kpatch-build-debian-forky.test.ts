import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSection, readElfFile } from '../../src/elf/index.js';
import { EXAMPLES, REPO } from './support/paths.js';
import { runBin } from './support/run-bin.js';

const RELEASE = '7.2.12+deb14-amd64';
const PATCHES = `${REPO}test/fixtures/patches/`;

// Debian testing ("forky", 7.2, gcc 16) from this bookworm host, as a user runs it. forky's Release file
// on the registry is past its Valid-Until, so the run says --ignore-valid-until (the archive e2e proves
// the refusal without it). Its kernel comes as linux-binary-unsigned + linux-base + linux-modules, every
// compile runs in a forky build root with gcc-16, and --verify boots forky's own image in qemu. The
// release's downloads, build root, prepared source, kallsyms and sealed list are the shared cache's.
describe(`kpatch-build --distro debian -a ${RELEASE} (Debian testing, 7.2, gcc 16)`, () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'e2e-kpatch-forky-'));
  });
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  const build = (patch: string, extra: string[]) =>
    runBin('kpatch-build', [
      '--distro',
      'debian',
      '-a',
      RELEASE,
      '--ignore-valid-until',
      '-j2',
      '-o',
      out,
      '--verify',
      ...extra,
      patch,
    ]);

  // --cpu Skylake-Client: an Intel model the 7.2 kernel mitigates with ITS return thunks, so loading
  // the livepatch patches its return sites to its_return_thunk (with -cpu max they become plain ret).
  it('builds examples/cmdline.patch in a forky build root and --verify --cpu Skylake-Client proves it on 7.2', async () => {
    const result = await build(`${EXAMPLES}cmdline.patch`, [
      '--cpu',
      'Skylake-Client',
      '--check',
      'dmesg | grep -m1 "active return thunk"; grep -q " livepatch=1$" /proc/cmdline',
    ]);
    expect(result.stderr).toMatch(/compiling in a forky build root: .*gcc-16 \(Debian 16\./);
    expect(result.stderr).toContain('fs/proc/cmdline.o: changed function: cmdline_proc_show');
    expect(result.stderr).toContain(`SUCCESS: ${out}/livepatch-cmdline.ko`);
    expect(result.stderr).toMatch(
      /Verifying livepatch-cmdline\.ko in a VM \(.*7\.2\.12\+deb14-amd64\/vmlinuz\.unsigned, -cpu Skylake-Client\)/,
    );
    expect(result.stderr).toContain('active return thunk: its_return_thunk');
    expect(result.stderr).toContain('verify: PASS check #1 fails before loading');
    expect(result.stderr).toContain('verify: PASS check #1 passes with the livepatch: ok');
    expect(result.stderr).toContain('verify: PASS check #1 fails after unloading');
    expect(result.stderr).toContain('verify: SUCCESS');
    expect(result.exitCode).toBe(0);
    // 7.x runs objtool at link time for every IBT kernel: the livepatch got its ORC and site lists there.
    const elf = await readElfFile(join(out, 'livepatch-cmdline.ko'));
    for (const name of ['.return_sites', '.call_sites', '.orc_unwind_ip'])
      expect(findSection(elf, name), name).toBeDefined();
  });

  it('late-patches binfmt_misc, a .ko.xz module of linux-modules-7.2, loaded after the livepatch', async () => {
    const result = await build(`${PATCHES}forky-module-object.patch`, [
      '--check',
      'mount -t binfmt_misc none /proc/sys/fs/binfmt_misc 2>/dev/null; grep -q "^enabled (patched)$" /proc/sys/fs/binfmt_misc/status',
    ]);
    expect(result.stderr).toContain('fs/binfmt_misc.o: changed function: bm_status_read');
    expect(result.stderr).toContain('Patched objects: binfmt_misc');
    expect(result.stderr).toContain('verify: PASS load binfmt_misc.ko after the patch: ok');
    expect(result.stderr).toContain('verify: PASS check #1 passes with the livepatch: ok');
    expect(result.stderr).toContain('verify: SUCCESS');
    expect(result.exitCode).toBe(0);
  });

  // e820__mapped_raw_any is EXPORT_SYMBOL_FOR_KVM (namespace "module:kvm,kvm-amd,kvm-intel"): modpost and
  // the loader refuse it to any other module, so it must reach the kernel as a livepatch relocation.
  it('converts a call to an export for named modules (EXPORT_SYMBOL_FOR_MODULES) and --verify proves it', async () => {
    const result = await build(`${PATCHES}forky-export-for-modules.patch`, [
      '--check',
      'grep -q " low_ram=1$" /proc/cmdline',
    ]);
    expect(result.stderr).toContain('fs/proc/cmdline.o: changed function: cmdline_proc_show');
    expect(result.stderr).toContain('verify: PASS check #1 passes with the livepatch: ok');
    expect(result.stderr).toContain('verify: SUCCESS');
    expect(result.exitCode).toBe(0);
    const elf = await readElfFile(join(out, 'livepatch-forky-export-for-modules.ko'));
    expect(elf.symbols.map((s) => s.name)).toContain('.klp.sym.vmlinux.e820__mapped_raw_any,0');
    expect(elf.symbols.map((s) => s.name)).not.toContain('e820__mapped_raw_any');
  });
});
