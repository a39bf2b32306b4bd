import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findKpatchCallbacks } from '../../src/diff/find-callbacks.js';
import { readElfFile } from '../../src/elf/index.js';
import { UnsupportedChangeError } from '../../src/errors.js';

// Records laid out as include/kpatch-macros.h lays them out: a pointer in .kpatch.callbacks.<kind>.
const record = (kind: string, fn: string) =>
  `static int (*__kpatch_${kind}_callback_${fn})(void *) __attribute__((section(".kpatch.callbacks.${kind}"), used)) = ${fn};`;

const FLAGS = ['-c', '-O2', '-ffunction-sections', '-fdata-sections', '-fno-pic', '-mcmodel=kernel'];

describe('findKpatchCallbacks', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callbacks-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function compile(name: string, source: string) {
    await writeFile(join(dir, `${name}.c`), source);
    await execa('gcc', [...FLAGS, '-o', join(dir, `${name}.o`), join(dir, `${name}.c`)]);
    return readElfFile(join(dir, `${name}.o`));
  }

  it('finds static callbacks (referenced through their section symbol) and global ones', async () => {
    const elf = await compile(
      'both',
      [
        'static int pre(void *o) { return 0; }',
        'int post_unpatch_fn(void *o) { return 1; }',
        record('pre_patch', 'pre'),
        record('post_unpatch', 'post_unpatch_fn'),
      ].join('\n'),
    );
    expect(findKpatchCallbacks(elf, 'both.o')).toEqual({ prePatch: 'pre', postUnpatch: 'post_unpatch_fn' });
  });

  it('finds nothing in an object without records', async () => {
    expect(findKpatchCallbacks(await compile('none', 'int f(void) { return 0; }'), 'none.o')).toEqual({});
  });

  it.each([
    [
      'two callbacks of one kind',
      [
        'static int a(void *o) { return 0; }',
        'static int b(void *o) { return 0; }',
        record('pre_patch', 'a'),
        record('pre_patch', 'b'),
      ],
      /more than one pre_patch callback/,
    ],
    [
      'KPATCH_FORCE_UNSAFE, which klp cannot honour',
      [
        'int f(void) { return 0; }',
        'static void *force __attribute__((section(".kpatch.force"), used)) = f;',
      ],
      /uses KPATCH_FORCE_UNSAFE \(\.kpatch\.force\)/,
    ],
  ])('refuses %s', async (name, lines, message) => {
    const elf = await compile(name.replaceAll(/\W/g, '_'), lines.join('\n'));
    expect(() => findKpatchCallbacks(elf, 'x.o')).toThrow(UnsupportedChangeError);
    expect(() => findKpatchCallbacks(elf, 'x.o')).toThrow(message);
  });
});
