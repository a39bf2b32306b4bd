import { describe, expect, it } from 'vitest';
import type { CompileObjectOptions } from '../../src/kbuild/compile-object.js';
import { isCompilerWord } from '../../src/kbuild/compile-object.js';
import { distccRequested, distccToolchain, parseDistccSlots, probeDistcc } from '../../src/kbuild/distcc.js';
import { hostToolchain, wrappedToolchain } from '../../src/kbuild/toolchain.js';

describe('distccRequested', () => {
  it.each([
    [false, {}, false],
    [false, { DISTCC_HOSTS: '' }, false],
    [false, { DISTCC_HOSTS: '  ' }, false],
    [false, { DISTCC_HOSTS: '127.0.0.1:3632/4' }, true],
    [true, {}, true],
    [true, { DISTCC_HOSTS: '' }, true],
  ])('--distcc %j with %j: %j', (flag, env, wanted) => {
    expect(distccRequested(flag, env)).toBe(wanted);
  });
});

describe('parseDistccSlots', () => {
  it.each([
    ['4\n', 4],
    ['12', 12],
    ['', undefined],
    ['0\n', undefined],
    ['four', undefined],
  ])('%j is %j', (stdout, slots) => {
    expect(parseDistccSlots(stdout)).toBe(slots);
  });
});

describe('isCompilerWord', () => {
  it.each([
    ['gcc', true],
    ['gcc-12', true],
    ['x86_64-linux-gnu-gcc-14', true],
    ['/usr/bin/clang', true],
    ['cc', true],
    ['ld', false],
    ['./tools/objtool/objtool', false],
    ['distcc', false],
  ])('%s: %j', (word, compiler) => {
    expect(isCompilerWord(word)).toBe(compiler);
  });
});

// The real distcc client (scripts/bootstrap.sh installs it): `distcc -j` and the host list need no server.
describe('probeDistcc and distccToolchain', () => {
  const withHosts = async <T>(hosts: string | undefined, fn: () => Promise<T>): Promise<T> => {
    const saved = process.env.DISTCC_HOSTS;
    if (hosts === undefined) delete process.env.DISTCC_HOSTS;
    else process.env.DISTCC_HOSTS = hosts;
    try {
      return await fn();
    } finally {
      if (saved === undefined) delete process.env.DISTCC_HOSTS;
      else process.env.DISTCC_HOSTS = saved;
    }
  };

  it('counts the job slots of DISTCC_HOSTS', async () => {
    expect(await withHosts('127.0.0.1:1/3 127.0.0.1:2/5', () => probeDistcc(hostToolchain))).toBe(8);
  });

  it('refuses a host list distcc cannot read, quoting distcc', async () => {
    await expect(withHosts('bad:host:x/y', () => probeDistcc(hostToolchain))).rejects.toThrow(
      /distcc has no usable host list: .*invalid tcp port specification/,
    );
  });

  it('refuses when distcc is missing, with the install hint', async () => {
    // A toolchain whose commands see no distcc (as a build root without it).
    const bare = wrappedToolchain('bookworm build root (gcc-12 12.2.0-14)', (c) => ({
      file: 'env',
      args: ['PATH=/nonexistent', '/bin/sh', ...c.args],
    }));
    const error = await probeDistcc(bare).catch((e: unknown) => e);
    expect(error).toMatchObject({
      message: expect.stringMatching(/the bookworm build root \(gcc-12 12\.2\.0-14\) has no distcc/),
      hint: expect.stringMatching(/install distcc inside the build root/),
    });
  });

  it('launches each compile with distcc and offers its slots', async () => {
    const seen: CompileObjectOptions[] = [];
    const base = {
      ...hostToolchain,
      compile: async (options: CompileObjectOptions) => {
        seen.push(options);
        return { output: 'o', command: 'c', logFile: 'l' };
      },
    };
    const toolchain = await withHosts('127.0.0.1:1/6', () => distccToolchain(base));
    expect(toolchain.compileSlots).toBe(6);
    await toolchain.compile({
      tree: '/t',
      object: { target: 'a.o', source: 'a.c', command: 'gcc' },
      workDir: '/w',
    });
    expect(seen.map((o) => o.launcher)).toEqual([['distcc']]);
  });
});
