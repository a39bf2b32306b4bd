// Reads the cached test kernel tree; never writes to it.
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareTestKernel } from '../../src/distro/prepare-test-kernel.js';
import { findAffectedObjects } from '../../src/kbuild/find-affected-objects.js';
import type { KbuildIndex } from '../../src/kbuild/kbuild-index.js';
import { buildKbuildIndex } from '../../src/kbuild/kbuild-index.js';
import type { ParentResolver } from '../../src/kbuild/object-parent.js';
import { createParentResolver, moduleNameFromPath } from '../../src/kbuild/object-parent.js';

let index: KbuildIndex;
let parents: ParentResolver;

beforeAll(async () => {
  const kernel = await prepareTestKernel();
  index = await buildKbuildIndex(kernel.sourceDir!);
  parents = await createParentResolver(index);
}, 600_000);

describe('the test kernel index', () => {
  it('knows the compiled objects of the tree', () => {
    expect(index.objects.size).toBeGreaterThan(600);
    expect(index.objects.get('fs/proc/cmdline.o')).toMatchObject({ source: 'fs/proc/cmdline.c' });
  });
});

describe('findAffectedObjects', () => {
  it('maps fs/proc/cmdline.c to exactly fs/proc/cmdline.o, in vmlinux', () => {
    const result = findAffectedObjects(index, parents, ['fs/proc/cmdline.c']);
    expect(result.objects.map((o) => [o.target, o.parent.kind, o.causes])).toEqual([
      ['fs/proc/cmdline.o', 'vmlinux', ['fs/proc/cmdline.c']],
    ]);
    expect(result.wide).toEqual([]);
    expect(result.unused).toEqual([]);
  });

  it('reports a widely included header up front', () => {
    const result = findAffectedObjects(index, parents, ['include/linux/fs.h', 'fs/proc/cmdline.c'], {
      wideThreshold: 50,
    });
    expect(result.wide).toHaveLength(1);
    const wide = result.wide[0]!;
    expect(wide.file).toBe('include/linux/fs.h');
    expect(wide.count).toBeGreaterThan(100);
    expect(wide.objects).toContain('fs/proc/cmdline.o');
    expect(result.objects.length).toBe(wide.count);
    expect(result.objects.find((o) => o.target === 'fs/proc/cmdline.o')?.causes).toEqual([
      'include/linux/fs.h',
      'fs/proc/cmdline.c',
    ]);
  });

  it('lists changed files no object is built from', () => {
    const result = findAffectedObjects(index, parents, ['Makefile', 'drivers/not/built.c']);
    expect(result.objects).toEqual([]);
    expect(result.unused).toEqual(['Makefile', 'drivers/not/built.c']);
  });

  it('maps a sample module object to its module', () => {
    const result = findAffectedObjects(index, parents, ['samples/livepatch/livepatch-sample.c']);
    expect(result.objects.map((o) => [o.target, o.parent])).toEqual([
      [
        'samples/livepatch/livepatch-sample.o',
        expect.objectContaining({
          kind: 'module',
          name: 'livepatch_sample',
          path: 'samples/livepatch/livepatch-sample.ko',
        }),
      ],
    ]);
  });
});

describe('parents', () => {
  it('puts builtin objects in vmlinux, boot code nowhere', () => {
    expect(parents.parentOf('kernel/livepatch/core.o')).toMatchObject({ kind: 'vmlinux' });
    expect(parents.parentOf('lib/string.o').kind).toBe('vmlinux');
    expect(parents.parentOf('arch/x86/boot/main.o').kind).toBe('none');
  });
  it('names modules like the kernel does', () => {
    expect(moduleNameFromPath('samples/livepatch/livepatch-shadow-fix1.ko')).toBe('livepatch_shadow_fix1');
    expect(parents.modules.map((m) => m.name)).toContain('livepatch_callbacks_demo');
  });
});
