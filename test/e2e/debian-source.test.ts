import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { kernelReleaseOf } from '../../src/distro/debian-kbuild.js';
import { type PreparedDebianSource, prepareDebianSource } from '../../src/distro/prepare-debian-source.js';
import { buildSingleObjects, cmdFileOf } from '../../src/kbuild/build-single-objects.js';
import { parseKbuildCmdFile } from '../../src/kbuild/kbuild-cmd-file.js';

// The real Debian bookworm source (linux-source-6.1, same package version as the image), prepared in the
// user's cache (cold: about 50 s plus the 139 MB download; warm: under a second), then one object built.
describe('Debian source tree', () => {
  let source: PreparedDebianSource;
  let object: string;
  const target = 'fs/proc/cmdline.o';

  beforeAll(async () => {
    source = await prepareDebianSource('latest');
    // Remove the object and its record so this run really builds it.
    await rm(join(source.tree, target), { force: true });
    await rm(join(source.tree, cmdFileOf(target)), { force: true });
    const built = await buildSingleObjects(source.tree, [target], {
      logFile: join(source.tree, '..', 'single-objects.log'),
    });
    object = built[0] ?? '';
  });

  it("says the target's release in utsrelease.h and the target's package version", async () => {
    expect(source.release).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
    const uts = await readFile(join(source.tree, 'include/generated/utsrelease.h'), 'utf8');
    expect(uts.trim()).toBe(`#define UTS_RELEASE "${source.release}"`);
    expect(source.packageVersion).toBe(source.target.packageVersion);
    // `make kernelrelease` prints KERNELVERSION + setlocalversion (6.1.192) even in Debian's own tree;
    // what objects see is KERNELRELEASE, overridden in .kernelvariables as Debian's build does.
    const vars = await readFile(join(source.tree, '.kernelvariables'), 'utf8');
    expect(kernelReleaseOf(vars)).toBe(source.release);
  });

  it("has Debian's build config, but for the local signing key", async () => {
    const strip = (text: string) => text.split('\n').filter((l) => l.startsWith('CONFIG_'));
    const ours = strip(await readFile(source.config, 'utf8'));
    const debian = strip(await readFile(join(source.target.buildDir, '.config'), 'utf8'));
    const differ = (a: string[], b: string[]) => a.filter((l) => !b.includes(l));
    expect(differ(ours, debian)).toEqual(['CONFIG_MODULE_SIG_KEY="certs/signing_key.pem"']);
    expect(differ(debian, ours).map((l) => l.split('=')[0])).toEqual(['CONFIG_MODULE_SIG_KEY']);
  });

  it('builds the object with a .cmd record that compileObject can re-run', async () => {
    expect(object).toBe(join(source.tree, target));
    const text = await readFile(join(source.tree, cmdFileOf(target)), 'utf8');
    expect(text).toMatch(/^(savedcmd|cmd)_fs\/proc\/cmdline\.o := /m);
    const record = parseKbuildCmdFile(text, source.tree);
    expect(record?.target).toBe(target);
    expect(record?.source).toBe('fs/proc/cmdline.c');
    expect(record?.command).toContain(' -c -o fs/proc/cmdline.o fs/proc/cmdline.c');
    // objtool runs per object on this config (ORC, no IBT): it is part of the recorded command.
    expect(record?.command).toMatch(/objtool .*--orc/);
  });

  it('has ftrace call sites and ORC tables', async () => {
    const { stdout: relocs } = await execa('readelf', ['-rW', object]);
    const fentry = relocs.split('\n').filter((l) => /R_X86_64_(PLT32|PC32)\s.*\b__fentry__\b/.test(l));
    expect(fentry.length).toBeGreaterThan(0);
    const { stdout: sections } = await execa('readelf', ['-SW', object]);
    expect(sections).toContain('.orc_unwind_ip');
    expect(sections).toContain('__mcount_loc');
  });

  it('returns at once on a second call, without rebuilding', async () => {
    const before = (await stat(join(source.tree, 'include/generated/autoconf.h'))).mtimeMs;
    const start = performance.now();
    const again = await prepareDebianSource('latest');
    const ms = performance.now() - start;
    expect(again.cached).toBe(true);
    expect(again.tree).toBe(source.tree);
    expect(ms).toBeLessThan(5000);
    expect((await stat(join(again.tree, 'include/generated/autoconf.h'))).mtimeMs).toBe(before);
  });
});
