import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeStructSizes } from '../../src/diff/probe-struct-sizes.js';
import { findSection, findSymbol, parseElf, readElfFile } from '../../src/elf/index.js';
import type { CompiledObject } from '../../src/kbuild/compile-object.js';
import { parseKbuildCmdFile } from '../../src/kbuild/kbuild-cmd-file.js';
import { planModule } from '../../src/module/plan-module.js';
import { buildLivepatchModule } from '../../src/pipeline/build-module.js';
import { type ChangedObject, diffObjectPairs } from '../../src/pipeline/diff-object-pairs.js';
import { verifyLivepatch } from '../../src/verify/verify-livepatch.js';
import { EXAMPLES } from './support/paths.js';
import {
  prepareTrixieKernel,
  TRIXIE_RELEASE,
  type TrixieKernel,
  trixieSealedFunctions,
} from './support/trixie-kernel.js';

// Debian 13's real kernel (X86_KERNEL_IBT, CALL_PADDING, PREFIX_SYMBOLS, CALL_THUNKS, RETHUNK), its
// source compiled by its own gcc-14 in a trixie build root, the cmdline livepatch driven piece by piece
// to look at each product (the whole command: kpatch-build-debian13.test.ts).
const ENDBR64 = [0xf3, 0x0f, 0x1e, 0xfa];
const RETBLEED = '/sys/devices/system/cpu/vulnerabilities/retbleed';
const VERMAGIC = `${TRIXIE_RELEASE} SMP preempt mod_unload modversions `;

describe('a cmdline livepatch for Debian 13 (IBT, call thunks, prefix padding)', () => {
  let kernel: TrixieKernel;
  let work: string;
  let orig: CompiledObject;
  let patched: CompiledObject;
  let changed: ChangedObject[];
  let ko: string;

  beforeAll(async () => {
    kernel = await prepareTrixieKernel();
    work = await mkdtemp(join(tmpdir(), 'e2e-trixie-'));
  }, 30 * 60_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("compiles in a trixie build root because the host's gcc is not the kernel's", async () => {
    expect(kernel.choice).toMatchObject({
      kind: 'build-root',
      spec: { suite: 'trixie', compilerPackage: 'gcc-14', compilerVersion: '14.2.0-19' },
    });
    expect(kernel.root.compilerText).toBe('gcc-14 (Debian 14.2.0-19) 14.2.0');
    const config = await readFile(kernel.config, 'utf8');
    expect(config).toContain('CONFIG_CC_VERSION_TEXT="x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0"');
    expect(await readFile(join(kernel.tree, 'include/generated/utsrelease.h'), 'utf8')).toContain(
      `"${TRIXIE_RELEASE}"`,
    );
  });

  it('compiles fs/proc/cmdline.o as kbuild does: NOP padding, ENDBR, no objtool products', async () => {
    const toolchain = kernel.toolchain;
    await toolchain.make({
      dir: kernel.tree,
      args: ['fs/proc/cmdline.o'],
      logFile: join(work, 'objects.log'),
      what: 'cmdline.o',
    });
    const cmd = parseKbuildCmdFile(await readFile(join(kernel.tree, 'fs/proc/.cmdline.o.cmd'), 'utf8'));
    expect(cmd?.command).toContain('-fpatchable-function-entry=16,16');
    expect(cmd?.command).not.toContain('objtool'); // IBT delays objtool to link time
    const object = { target: cmd!.target, source: cmd!.source!, command: cmd!.command };
    orig = await toolchain.compile({ tree: kernel.tree, object, workDir: join(work, 'orig') });
    const copy = join(work, 'src/fs/proc/cmdline.c');
    await mkdir(join(work, 'src/fs/proc'), { recursive: true });
    await copyFile(join(kernel.tree, 'fs/proc/cmdline.c'), copy);
    await execa('patch', ['-p1', '-d', join(work, 'src'), '-i', `${EXAMPLES}cmdline.patch`]);
    patched = await toolchain.compile({
      tree: kernel.tree,
      object,
      workDir: join(work, 'patched'),
      sourceFile: copy,
    });
    const elf = parseElf(await readFile(orig.output));
    const comment = findSection(elf, '.comment')!.data.toString('latin1');
    expect(comment).toContain('GCC: (Debian 14.2.0-19) 14.2.0');
    const fn = findSymbol(elf, 'cmdline_proc_show')!;
    expect(fn.value).toBe(16n);
    expect([...fn.section!.data.subarray(0, 16)]).toEqual(Array(16).fill(0x90));
    expect([...fn.section!.data.subarray(16, 20)]).toEqual(ENDBR64);
    for (const absent of ['.return_sites', '.call_sites', '.orc_unwind', '.ibt_endbr_seal'])
      expect(findSection(elf, absent), absent).toBeUndefined();
    expect(elf.symbols.some((s) => s.name.startsWith('__pfx_'))).toBe(false);
  });

  it('diffs the padded objects: cmdline_proc_show changed, nothing refused', async () => {
    changed = await diffObjectPairs({
      pairs: [
        {
          object: {
            target: 'fs/proc/cmdline.o',
            source: 'fs/proc/cmdline.c',
            causes: ['fs/proc/cmdline.c'],
            parent: { kind: 'vmlinux', name: 'vmlinux', via: [] },
          },
          orig,
          patched,
        },
      ],
      tree: kernel.tree,
      vmlinuxSymbols: { format: 'kallsyms', path: kernel.kallsyms },
      moduleSymvers: kernel.moduleSymvers,
    });
    expect(changed).toHaveLength(1);
    expect(changed[0]!.report.changedFunctions).toEqual(['cmdline_proc_show']);
    expect(changed[0]!.report.refusals).toEqual([]);
  });

  it("builds the module: kbuild's link-time objtool adds return/call sites, ORC and __pfx_ symbols", async () => {
    const plan = await planModule(changed, {
      name: 'livepatch-cmdline',
      replace: false,
      workDir: join(work, 'plan'),
    });
    ko = await buildLivepatchModule({
      spec: plan.spec,
      buildDir: kernel.tree,
      moduleSymvers: kernel.moduleSymvers,
      systemMap: kernel.kallsyms,
      targetModules: [],
      workDir: join(work, 'module'),
      outputDir: join(work, 'out'),
      expectedVermagic: VERMAGIC,
      make: kernel.toolchain.make,
    });
    const elf = await readElfFile(ko);
    for (const name of [
      '.return_sites',
      '.call_sites',
      '.orc_unwind_ip',
      '.klp.rela.vmlinux..text.cmdline_proc_show',
    ])
      expect(findSection(elf, name), name).toBeDefined();
    const newFn = elf.symbols.find(
      (s) => s.name.startsWith('klp.new.') && s.name.endsWith('cmdline_proc_show'),
    );
    expect(newFn?.value).toBe(16n);
    expect([...newFn!.section!.data.subarray(16, 20)]).toEqual(ENDBR64);
    expect([...newFn!.section!.data.subarray(0, 16)]).toEqual(Array(16).fill(0x90)); // room for a call thunk
    expect(findSymbol(elf, `__pfx_${newFn!.name}`)?.value).toBe(0n);
  });

  it('loads and runs on the default qemu CPU too (not affected by retbleed: return sites become ret)', async () => {
    const result = await verifyLivepatch({
      kernel: kernel.image,
      modules: [ko],
      checks: [
        `cat ${RETBLEED}; grep -q "Not affected" ${RETBLEED} && grep -q " livepatch=1$" /proc/cmdline`,
      ],
      unload: true,
    });
    expect(result.steps.filter((s) => !s.ok)).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('loads and runs on the real kernel with call depth tracking and return thunks active', async () => {
    const result = await verifyLivepatch({
      kernel: kernel.image,
      modules: [ko],
      // The check also shows the kernel is stuffing: call thunks in every function's padding, the
      // call-depth return thunk (busybox dmesg keeps only the log's tail, so the boot lines are read here).
      checks: [
        `cat ${RETBLEED}; cat /proc/cmdline; grep -q "Mitigation: Stuffing" ${RETBLEED} && grep -q " livepatch=1$" /proc/cmdline`,
      ],
      unload: true,
      // A Skylake model makes the kernel choose RSB stuffing: call thunks in every function's padding.
      cpu: 'Skylake-Client',
      // debug-callthunks logs the loader patching the module's .call_sites.
      append: 'retbleed=stuff debug-callthunks',
    });
    const failed = result.steps.filter((s) => !s.ok);
    expect(failed).toEqual([]);
    expect(result.ok).toBe(true);
    const log = result.dmesg.join('\n');
    expect(result.console).toContain('Mitigation: Stuffing');
    expect(log).toContain('callthunks: Patching call sites livepatch_cmdline');
    expect(log).toContain('callthunks: Patching call sites donelivepatch_cmdline');
    expect(log).toContain("livepatch: 'livepatch_cmdline': patching complete");
  });

  it('refuses new code that takes the address of a function the kernel sealed at boot', async () => {
    const sealed = await trixieSealedFunctions(kernel);
    // Sealed: address never taken in vmlinux; cmdline_proc_show's is (proc_create_single), exports' are.
    expect(sealed.size).toBeGreaterThan(5000);
    expect(sealed.has('calibrate_delay')).toBe(true);
    expect(sealed.has('cmdline_proc_show')).toBe(false);
    expect(sealed.has('seq_printf')).toBe(false);
    const toolchain = kernel.toolchain;
    const cmd = parseKbuildCmdFile(await readFile(join(kernel.tree, 'fs/proc/.cmdline.o.cmd'), 'utf8'))!;
    const object = { target: 'fs/proc/cmdline.o', source: 'fs/proc/cmdline.c', command: cmd.command };
    const dir = join(work, 'sealed-src');
    await mkdir(join(dir, 'fs/proc'), { recursive: true });
    const source = (await readFile(join(kernel.tree, 'fs/proc/cmdline.c'), 'utf8'))
      .replace('#include "internal.h"', '#include "internal.h"\n\nextern void calibrate_delay(void);')
      .replace("\tseq_putc(m, '\\n');", '\tseq_printf(m, " %ps\\n", calibrate_delay);');
    expect(source).toContain('%ps');
    await writeFile(join(dir, 'fs/proc/cmdline.c'), source);
    const sealedObject = await toolchain.compile({
      tree: kernel.tree,
      object,
      workDir: join(work, 'sealed-obj'),
      sourceFile: join(dir, 'fs/proc/cmdline.c'),
    });
    const pair = {
      object: {
        ...object,
        causes: [object.source],
        parent: { kind: 'vmlinux' as const, name: 'vmlinux' as const, via: [] },
      },
      orig,
      patched: sealedObject,
    };
    const diffed = await diffObjectPairs({
      pairs: [pair],
      tree: kernel.tree,
      vmlinuxSymbols: { format: 'kallsyms', path: kernel.kallsyms },
      moduleSymvers: kernel.moduleSymvers,
    });
    const plan = await planModule(diffed, {
      name: 'livepatch-sealed',
      replace: false,
      workDir: join(work, 'plan-sealed'),
    });
    const build = (spec: typeof plan.spec, name: string) =>
      buildLivepatchModule({
        spec,
        buildDir: kernel.tree,
        moduleSymvers: kernel.moduleSymvers,
        systemMap: kernel.kallsyms,
        targetModules: [],
        workDir: join(work, name),
        outputDir: join(work, `${name}-out`),
        expectedVermagic: VERMAGIC,
        make: toolchain.make,
        sealedFunctions: sealed,
      });
    await expect(build(plan.spec, 'module-sealed')).rejects.toMatchObject({
      code: 'unsupported-change',
      message: expect.stringMatching(
        /sealed at boot \(IBT\): calibrate_delay \(\.text\.cmdline_proc_show\+0x/,
      ),
      hint: expect.stringMatching(/#CP/),
    });
  });

  it('a WARN in a patched function: objtool still processes the module, which loads and transitions', async () => {
    const toolchain = kernel.toolchain;
    await toolchain.make({
      dir: kernel.tree,
      args: ['kernel/notifier.o'],
      logFile: join(work, 'objects.log'),
      what: 'notifier.o',
    });
    const cmd = parseKbuildCmdFile(await readFile(join(kernel.tree, 'kernel/.notifier.o.cmd'), 'utf8'))!;
    const object = { target: 'kernel/notifier.o', source: 'kernel/notifier.c', command: cmd.command };
    const before = await toolchain.compile({ tree: kernel.tree, object, workDir: join(work, 'n-orig') });
    const copy = join(work, 'n-src/kernel/notifier.c');
    await mkdir(join(work, 'n-src/kernel'), { recursive: true });
    const source = (await readFile(join(kernel.tree, 'kernel/notifier.c'), 'utf8')).replace(
      /(bool unique_priority\)\n\{\n)(\twhile)/,
      '$1\tif (WARN_ON_ONCE(!n))\n\t\treturn -EINVAL;\n$2',
    );
    expect(source).toContain('WARN_ON_ONCE(!n)');
    await writeFile(copy, source);
    const after = await toolchain.compile({
      tree: kernel.tree,
      object,
      workDir: join(work, 'n-patched'),
      sourceFile: copy,
    });
    const diffed = await diffObjectPairs({
      pairs: [
        {
          object: {
            ...object,
            causes: [object.source],
            parent: { kind: 'vmlinux', name: 'vmlinux', via: [] },
          },
          orig: before,
          patched: after,
        },
      ],
      tree: kernel.tree,
      vmlinuxSymbols: { format: 'kallsyms', path: kernel.kallsyms },
      moduleSymvers: kernel.moduleSymvers,
      // The struct-size probe compiled in the build root, as kpatch-build does (toolchain.command).
      structSizes: await probeStructSizes(kernel.tree, 'kernel/notifier.o', toolchain.command),
    });
    expect(diffed[0]!.report.changedFunctions).toEqual(['notifier_chain_register']);
    const plan = await planModule(diffed, {
      name: 'livepatch-notifier',
      replace: false,
      workDir: join(work, 'n-plan'),
    });
    const notifierKo = await buildLivepatchModule({
      spec: plan.spec,
      buildDir: kernel.tree,
      moduleSymvers: kernel.moduleSymvers,
      systemMap: kernel.kallsyms,
      targetModules: [],
      workDir: join(work, 'n-module'),
      outputDir: join(work, 'n-out'),
      expectedVermagic: VERMAGIC,
      make: toolchain.make,
    });
    const log = await readFile(join(work, 'n-module/module-build.log'), 'utf8');
    // The one objtool remark: klp_func.new_func points at a static function gcc gave no ENDBR (its address
    // was never taken). Harmless: ftrace reaches new_func by RET to the swapped ip, never by an indirect
    // branch. Any other remark (e.g. objtool giving up on an annotation) would fail here.
    expect(log.match(/objtool: .*/g)).toEqual([
      'objtool: klp_funcs_0+0x8: data relocation to !ENDBR: notifier_chain_register+0x0',
    ]);
    const elf = await readElfFile(notifierKo);
    // The patched function calls a tracepoint (a static call): its site names the key through a
    // livepatch relocation (the loader refuses a non-exported key reached through the trampoline).
    for (const name of [
      '.return_sites',
      '.call_sites',
      '__bug_table',
      '.klp.rela.vmlinux..static_call_sites',
    ])
      expect(findSection(elf, name), name).toBeDefined();
    const result = await verifyLivepatch({
      kernel: kernel.image,
      modules: [notifierKo],
      checks: ['test -d /sys/kernel/livepatch/livepatch_notifier'],
      unload: true,
      cpu: 'Skylake-Client',
      append: 'retbleed=stuff',
    });
    expect(result.steps.filter((s) => !s.ok)).toEqual([]);
    expect(result.ok).toBe(true);
  });
});
