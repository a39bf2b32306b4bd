import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnsupportedChangeError } from '../../../src/errors.js';
import type { KbuildIndex } from '../../../src/kbuild/kbuild-index.js';
import { modnameOf, resolveParents } from '../../../src/pipeline/steps/object-parents.js';
import { makeTree } from '../../patch/support.js';
import { fakeTarget } from '../support.js';

const BUILTIN =
  'savedcmd_fs/proc/cmdline.o := gcc -Wp,-MMD,fs/proc/.cmdline.o.d -c -o fs/proc/cmdline.o fs/proc/cmdline.c\n';
const MODULE =
  'savedcmd_drivers/net/dummy.o := gcc -DMODULE -DKBUILD_BASENAME=\'"dummy"\' -DKBUILD_MODNAME=\'"dummy-net"\' -c -o drivers/net/dummy.o drivers/net/dummy.c\n';
const NO_INDEX = {} as KbuildIndex; // the compile-flags rule reads .cmd files, not the index

async function preparedTree(withModules: boolean) {
  return makeTree({
    'fs/proc/.cmdline.o.cmd': BUILTIN,
    'drivers/net/.dummy.o.cmd': MODULE,
    ...(withModules ? { 'modules/kernel/drivers/net/dummy-net.ko': 'not read here' } : {}),
  });
}

describe('resolveParents by compile flags (a prepared distro tree)', () => {
  it.each([
    ['-DKBUILD_MODNAME=\'"dummy-net"\'', 'dummy_net'],
    ['-DKBUILD_MODNAME=ext4', 'ext4'],
    ['-DKBUILD_BASENAME=x', undefined],
  ])('modnameOf(%s) = %s', (flags, name) => {
    expect(modnameOf(`gcc ${flags} -c`)).toBe(name);
  });

  it('places an object compiled without -DMODULE in vmlinux', async () => {
    const tree = await preparedTree(false);
    const parents = await resolveParents(fakeTarget(tree), NO_INDEX, undefined);
    expect(parents.parentOf('fs/proc/cmdline.o')).toEqual({ kind: 'vmlinux', name: 'vmlinux', via: [] });
  });

  it("places a module's object in the target's shipped copy of that module", async () => {
    const tree = await preparedTree(true);
    const target = fakeTarget(tree, { modulesDir: join(tree, 'modules') });
    const parents = await resolveParents(target, NO_INDEX, undefined);
    expect(parents.parentOf('drivers/net/dummy.o')).toEqual({
      kind: 'module',
      name: 'dummy_net',
      path: join(tree, 'modules/kernel/drivers/net/dummy-net.ko'),
      via: [],
    });
  });

  it.each([
    [false, /dummy\.o is built for a module \(dummy_net\); the modules of Fake kernel 1\.0 are not fetched/],
    [true, /dummy\.o is built for a module \(dummy_net\) the target kernel does not ship/],
  ])(
    'refuses a module object when the modules are unknown or lack it (modules dir: %s)',
    async (dir, message) => {
      const tree = await preparedTree(false);
      const target = fakeTarget(tree, dir ? { modulesDir: join(tree, 'fs') } : {});
      const parents = await resolveParents(target, NO_INDEX, undefined);
      expect(() => parents.parentOf('drivers/net/dummy.o')).toThrow(UnsupportedChangeError);
      expect(() => parents.parentOf('drivers/net/dummy.o')).toThrow(message);
    },
  );

  it("gives every object of an external module to that module, whatever the target's rule", async () => {
    const tree = await preparedTree(false);
    const oot = { ko: '/m/hello.ko', sourceDir: '/m', name: 'hello' };
    const parents = await resolveParents(fakeTarget(tree), NO_INDEX, oot);
    expect(parents.parentOf('/m/hello.o')).toEqual({
      kind: 'module',
      name: 'hello',
      path: '/m/hello.ko',
      via: [],
    });
  });
});
