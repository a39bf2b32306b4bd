import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findTargetModules,
  moduleDependencies,
  targetVermagic,
  uncompressedModule,
} from '../../src/distro/target-modules.js';
import { DistroError } from '../../src/errors.js';

let dir: string;
let module: Buffer;

// A relocatable object with a .modinfo section is all a vermagic reader looks at.
async function compileModule(path: string, vermagic: string): Promise<void> {
  const source = join(dir, 'modinfo.c');
  await writeFile(
    source,
    `static const char v[] __attribute__((used, section(".modinfo"))) = "vermagic=${vermagic}";\nint x;\n`,
  );
  await execa('gcc', ['-c', '-o', path, source]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpb-target-modules-'));
  await compileModule(join(dir, 'plain.ko'), '6.1.192-300.fc39.x86_64 SMP mod_unload ');
  module = await readFile(join(dir, 'plain.ko'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function layout(root: string, files: Record<string, Buffer | string>): Promise<void> {
  for (const [path, data] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), data);
  }
}

describe('findTargetModules', () => {
  it('names every module as the kernel does, compressed or not, updates/ winning over kernel/', async () => {
    const root = join(dir, 'lib-modules');
    await layout(root, {
      'kernel/fs/binfmt_misc.ko.xz': 'x',
      'kernel/drivers/net/virtio-net.ko.zst': 'z',
      'kernel/samples/kobject/kobject-example.ko': 'k',
      'kernel/lib/crc16.ko.gz': 'g',
      'kernel/fs/ext4.ko': 'old',
      'updates/ext4.ko': 'new',
      'modules.order': 'kernel/fs/binfmt_misc.ko\n',
      'kernel/fs/readme.txt': 'not a module',
    });
    const found = findTargetModules(root);
    expect(Object.fromEntries([...found].map(([name, path]) => [name, path.slice(root.length + 1)]))).toEqual(
      {
        binfmt_misc: 'kernel/fs/binfmt_misc.ko.xz',
        virtio_net: 'kernel/drivers/net/virtio-net.ko.zst',
        kobject_example: 'kernel/samples/kobject/kobject-example.ko',
        crc16: 'kernel/lib/crc16.ko.gz',
        ext4: 'updates/ext4.ko',
      },
    );
  });
});

describe('uncompressedModule', () => {
  it.each([
    ['xz', ['xz', '-c']],
    ['zst', ['zstd', '-q', '-c']],
    ['gz', ['gzip', '-c']],
  ])('gives the plain ELF of a .ko.%s, once', async (ext, [tool = '', ...args]) => {
    const compressed = join(dir, `m-${ext}.ko.${ext}`);
    const { stdout } = await execa(tool, [...args, join(dir, 'plain.ko')], { encoding: 'buffer' });
    await writeFile(compressed, stdout);
    const out = join(dir, `out-${ext}`);
    const plain = uncompressedModule(compressed, out);
    expect(plain).toBe(join(out, `m-${ext}.ko`));
    expect(await readFile(plain)).toEqual(module);
    expect(await readdir(out)).toEqual([`m-${ext}.ko`]); // no .part left behind
    await writeFile(plain, 'kept');
    expect(uncompressedModule(compressed, out)).toBe(plain);
    expect(await readFile(plain, 'utf8')).toBe('kept'); // not decompressed again
  });

  it('returns a plain .ko as it is', () => {
    expect(uncompressedModule(join(dir, 'plain.ko'), join(dir, 'unused'))).toBe(join(dir, 'plain.ko'));
  });

  it('names the file when it is not what its name says', async () => {
    const bad = join(dir, 'bad.ko.xz');
    await writeFile(bad, 'not xz');
    expect(() => uncompressedModule(bad, join(dir, 'out-bad'))).toThrow(/cannot decompress .*bad\.ko\.xz/);
    expect(await readdir(join(dir, 'out-bad'))).toEqual([]);
  });
});

describe('targetVermagic', () => {
  it("reads the vermagic of the target's modules", async () => {
    const root = join(dir, 'vermagic');
    const { stdout } = await execa('xz', ['-c', join(dir, 'plain.ko')], { encoding: 'buffer' });
    await layout(root, { 'kernel/a/m.ko.xz': Buffer.from(stdout) });
    expect(await targetVermagic(findTargetModules(root), join(dir, 'vermagic-out'))).toBe(
      '6.1.192-300.fc39.x86_64 SMP mod_unload ',
    );
  });

  it('refuses modules without one', async () => {
    const root = join(dir, 'no-vermagic');
    await compileModule(join(dir, 'other.ko'), '');
    await layout(root, { 'kernel/a/m.ko': await readFile(join(dir, 'other.ko')) });
    await expect(targetVermagic(findTargetModules(root), join(dir, 'nv-out'))).rejects.toThrow(DistroError);
  });
});

describe('moduleDependencies', () => {
  async function moduleWith(path: string, depends: string): Promise<void> {
    const source = join(dir, 'dep.c');
    await writeFile(
      source,
      `static const char d[] __attribute__((used, section(".modinfo"))) = "depends=${depends}";\n`,
    );
    await mkdir(join(path, '..'), { recursive: true });
    await execa('gcc', ['-c', '-o', path, source]);
  }

  it("loads a patched module's dependencies first, transitively, decompressing them, each once", async () => {
    const root = join(dir, 'deps');
    await moduleWith(join(root, 'kernel/drivers/md/dm-vdo.ko'), 'dm-bufio,dm-mod,lz4_compress');
    await moduleWith(join(root, 'kernel/drivers/md/dm-bufio.ko'), 'dm-mod');
    await moduleWith(join(root, 'kernel/drivers/md/dm-mod.ko'), '');
    await moduleWith(join(root, 'kernel/lib/lz4_compress.ko'), '');
    await execa('xz', [join(root, 'kernel/lib/lz4_compress.ko')]);
    const deps = await moduleDependencies([join(root, 'kernel/drivers/md/dm-vdo.ko')], root);
    expect(deps.map((p) => p.slice(dir.length + 1))).toEqual([
      'deps/kernel/drivers/md/dm-mod.ko',
      'deps/kernel/drivers/md/dm-bufio.ko',
      'deps.uncompressed/lz4_compress.ko',
    ]);
    expect(await moduleDependencies([join(root, 'kernel/drivers/md/dm-mod.ko')], root)).toEqual([]);
  });
});
