import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareTarget } from '../../src/distro/prepare-target.js';
import type { TargetKernel } from '../../src/distro/target.js';
import { buildExternalModule } from '../../src/kbuild/build-external-module.js';
import { runMake } from '../../src/kbuild/run-make.js';
import { convertLivepatchModule } from '../../src/klp/index.js';
import { writeModuleDir } from '../../src/module/write-module-dir.js';
import { verifyLivepatch } from '../../src/verify/verify-livepatch.js';
import { MODULE_FIXTURES } from './support/paths.js';

// The generated kbuild module, linked with a prebuilt object as create-diff-object would hand it over,
// converted in-process and loaded into the test kernel.
describe('generated livepatch module on the test kernel', () => {
  let target: TargetKernel;
  let work: string;
  let linkedObject: string;

  beforeAll(async () => {
    target = await prepareTarget({ kind: 'test' });
    work = await mkdtemp(join(tmpdir(), 'e2e-generate-'));
    const build = join(work, 'linked');
    await buildExternalModule({
      sourceDir: `${MODULE_FIXTURES}linked-cmdline`,
      workDir: build,
      target,
      makeVars: { KBUILD_MODPOST_WARN: '1' },
    });
    linkedObject = join(build, 'newcode.o');
  });

  it('builds, converts and replaces cmdline_proc_show, using a non-exported symbol', async () => {
    const module = await writeModuleDir(
      {
        name: 'livepatch-generated',
        replace: true,
        linkedObjects: [linkedObject],
        objects: [
          {
            name: 'vmlinux',
            functions: [{ oldName: 'cmdline_proc_show', oldSympos: 0, newSymbol: 'klp_new_cmdline_show' }],
            references: [{ symbol: 'saved_command_line', sympos: 0 }],
          },
        ],
      },
      join(work, 'module'),
    );
    await runMake({
      dir: target.buildDir,
      args: [`M=${module.dir}`, 'KBUILD_MODPOST_WARN=1', 'modules'],
      logFile: join(work, 'module.log'),
      what: 'generated module',
    });
    const converted = join(work, 'livepatch-generated.ko');
    await convertLivepatchModule({
      input: module.koPath,
      output: converted,
      systemMap: target.symbols.path,
      moduleSymvers: target.moduleSymvers,
      cacheDir: false,
    });
    const sections = (await execa('readelf', ['-SW', converted])).stdout;
    expect(sections).toMatch(/\.klp\.rela\.vmlinux\.\.text /);
    expect(sections).not.toMatch(/\.klp\.module_relocs/);
    const symbols = (await execa('readelf', ['-sW', converted])).stdout;
    expect(symbols).toMatch(/\.klp\.sym\.vmlinux\.saved_command_line,0/);

    const result = await verifyLivepatch({
      kernel: target.image,
      modules: [converted],
      checks: ['cat /proc/cmdline; grep -q " generated=1$" /proc/cmdline'],
      unload: true,
    });
    expect(result.steps.filter((s) => !s.ok)).toEqual([]);
    expect(
      result.steps.find((s) => s.name === 'check #1 passes with the livepatch')?.output.join('\n'),
    ).toMatch(/console=ttyS0 .* generated=1$/);
    expect(result.ok).toBe(true);
  });
});
