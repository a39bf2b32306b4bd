import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readElfFile } from '../../src/elf/index.js';
import { VerifyError } from '../../src/errors.js';
import { modinfoValue, readModinfo } from '../../src/module/modinfo.js';
import { readModuleName } from '../../src/verify/module-name.js';

// A module-shaped object: .modinfo strings as modpost and MODULE_* macros lay them out (aligned, so
// padding NULs sit between entries), plus a decoy "name=" string in .rodata that must not be picked.
const SOURCE = `
static const char decoy[] __attribute__((used)) = "\\0name=decoy";
static const char a[] __attribute__((used, section(".modinfo"), aligned(1))) = "license=GPL";
static const char b[] __attribute__((used, section(".modinfo"), aligned(8))) = "livepatch=Y";
static const char c[] __attribute__((used, section(".modinfo"), aligned(1))) = "name=klp_demo";
static const char d[] __attribute__((used, section(".modinfo"), aligned(1))) = "vermagic=6.1.0 SMP mod_unload";
`;

describe('readModinfo / readModuleName', () => {
  let dir: string;
  let object: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modinfo-'));
    await writeFile(join(dir, 'm.c'), SOURCE);
    object = join(dir, 'm.o');
    await execa('gcc', ['-c', '-O2', '-o', object, join(dir, 'm.c')]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads every key=value entry in order, skipping padding', async () => {
    const elf = await readElfFile(object);
    // readelf's string dump of the section is the reference for what is there and in which order.
    const { stdout } = await execa('readelf', ['-p', '.modinfo', object]);
    const expected = [...stdout.matchAll(/^\s+\[\s*[0-9a-f]+\]\s+(.*)$/gm)].map((m) => m[1]);
    expect(expected).toHaveLength(4);
    expect(readModinfo(elf).map((e) => `${e.key}=${e.value}`)).toEqual(expected);
    expect(modinfoValue(elf, 'vermagic')).toBe('6.1.0 SMP mod_unload');
    expect(modinfoValue(elf, 'missing')).toBeUndefined();
  });

  it('takes the module name from .modinfo, not from other sections', async () => {
    expect(await readModuleName(object)).toBe('klp_demo');
  });

  it.each([
    ['a file that is not ELF', 'not elf', /not an ELF|magic/i],
    ['an ELF without name=', null, /has no \.modinfo name= entry/],
  ])('refuses %s', async (_, content, message) => {
    const path = join(dir, `bad-${Math.random()}.o`);
    if (content === null) {
      await writeFile(join(dir, 'n.c'), 'int x;\n');
      await execa('gcc', ['-c', '-o', path, join(dir, 'n.c')]);
    } else {
      await writeFile(path, content);
    }
    await expect(readModuleName(path)).rejects.toThrow(VerifyError);
    await expect(readModuleName(path)).rejects.toThrow(message);
  });
});
