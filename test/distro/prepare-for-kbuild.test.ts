import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type KbuildRecipe, prepareForKbuild, textStamp } from '../../src/distro/prepare-for-kbuild.js';
import { BuildError } from '../../src/errors.js';

// A tree whose Makefile does what kbuild's targets leave behind (utsrelease.h from the release the
// recipe's files set, objtool), and logs each target it ran: the steps are real make runs.
const MAKEFILE = `include release.mk
olddefconfig:
\t@echo olddefconfig >> calls.log
prepare:
\t@echo prepare >> calls.log
\t@mkdir -p include/generated tools/objtool
\t@echo '#define UTS_RELEASE "$(KRELEASE)"' > include/generated/utsrelease.h
\t@touch tools/objtool/objtool
kernelrelease:
\t@echo $(MAKE_SAYS)
`;

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function fakeTree(): Promise<{ tree: string; symvers: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'kpb-kbuild-'));
  dirs.push(dir);
  const tree = join(dir, 'source');
  await mkdir(tree);
  await writeFile(join(tree, 'Makefile'), MAKEFILE);
  const symvers = join(dir, 'Module.symvers');
  await writeFile(symvers, '0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n');
  return { tree, symvers };
}

function recipe(tree: string, changes: Partial<KbuildRecipe> = {}): KbuildRecipe {
  return {
    tree,
    release: '6.1.0-9-test',
    files: [
      { name: 'release.mk', text: 'KRELEASE = 6.1.0-9-test\nMAKE_SAYS = 6.1.0-9-test\n' },
      { name: '.config', text: 'CONFIG_X=y\n' },
    ],
    targets: ['prepare'],
    utsDefines: ['#define UTS_TEST_ABI 9'],
    checkMakeKernelRelease: true,
    products: ['tools/objtool/objtool'],
    stamp: textStamp(join(tree, '.stamp'), 'key-1'),
    lock: join(tree, '.lock'),
    logFile: join(tree, 'prepare.log'),
    ...changes,
  };
}

const calls = (tree: string) => readFile(join(tree, 'calls.log'), 'utf8').catch(() => '');

describe('prepareForKbuild', () => {
  it('writes the files, runs olddefconfig and the targets, appends the uts defines, copies Module.symvers, once', async () => {
    const { tree, symvers } = await fakeTree();
    const phases: string[] = [];
    const ran = await prepareForKbuild(recipe(tree, { moduleSymvers: symvers }), {
      jobs: 1,
      onPhase: (phase) => phases.push(phase),
    });
    expect(ran).toBe(true);
    expect(await calls(tree)).toBe('olddefconfig\nprepare\n');
    expect(phases).toEqual(['configure', 'olddefconfig', 'prepare']);
    expect(await readFile(join(tree, '.config'), 'utf8')).toBe('CONFIG_X=y\n');
    expect(await readFile(join(tree, 'Module.symvers'), 'utf8')).toContain('printk');
    expect(await readFile(join(tree, 'include/generated/utsrelease.h'), 'utf8')).toBe(
      '#define UTS_RELEASE "6.1.0-9-test"\n#define UTS_TEST_ABI 9\n',
    );
    expect(await readFile(join(tree, '.stamp'), 'utf8')).toBe('key-1');

    expect(await prepareForKbuild(recipe(tree, { moduleSymvers: symvers }))).toBe(false);
    expect(await calls(tree)).toBe('olddefconfig\nprepare\n');
  });

  it.each([
    ['the key changed', (tree: string) => recipe(tree, { stamp: textStamp(join(tree, '.stamp'), 'key-2') })],
    ['a product is missing', (tree: string) => recipe(tree, { products: ['scripts/module.lds'] })],
  ])('prepares again when %s', async (_, changed) => {
    const { tree } = await fakeTree();
    await prepareForKbuild(recipe(tree));
    await rm(join(tree, 'calls.log'));
    await expect(prepareForKbuild(changed(tree))).resolves.toBe(true);
    expect(await calls(tree)).toBe('olddefconfig\nprepare\n');
  });

  it.each([
    [
      'utsrelease.h',
      { release: '6.1.0-10-test' },
      /utsrelease\.h says #define UTS_RELEASE "6\.1\.0-9-test", not 6\.1\.0-10-test/,
    ],
    [
      'make kernelrelease',
      {
        files: [{ name: 'release.mk', text: 'KRELEASE = 6.1.0-9-test\nMAKE_SAYS = 6.1.9\n' }],
      },
      /make kernelrelease in .* prints "6\.1\.9", not the target's "6\.1\.0-9-test"/,
    ],
  ])('refuses a tree whose %s names another release, and records no stamp', async (_, changes, message) => {
    const { tree } = await fakeTree();
    const error = await prepareForKbuild(recipe(tree, changes)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).message).toMatch(message);
    expect(await recipe(tree, changes).stamp.isCurrent()).toBe(false);
  });
});
