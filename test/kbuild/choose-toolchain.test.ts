import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRootDir, buildRootPackages, buildRootSources } from '../../src/kbuild/build-root.js';
import { chooseToolchain, parseConfigCompiler } from '../../src/kbuild/choose-toolchain.js';

describe('parseConfigCompiler', () => {
  it.each([
    [
      'x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0',
      { command: 'x86_64-linux-gnu-gcc-14', package: 'gcc-14', version: '14.2.0-19' },
    ],
    [
      'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0',
      { command: 'gcc-12', package: 'gcc-12', version: '12.2.0-14+deb12u1' },
    ],
    ['gcc-16 (Debian 16.2.0-3) 16.2.0', { command: 'gcc-16', package: 'gcc-16', version: '16.2.0-3' }],
  ])('%s', (text, expected) => {
    expect(parseConfigCompiler(text)).toEqual({ ...expected, text });
  });

  it.each(['gcc (GCC) 14.2.1 20250110 (Red Hat 14.2.1-7)', 'Debian clang version 19.1.7'])(
    'is undefined for a compiler that is not a Debian gcc-N: %s',
    (text) => {
      expect(parseConfigCompiler(text)).toBeUndefined();
    },
  );
});

describe('chooseToolchain', () => {
  let dir: string;
  let hostLine: string;
  const config = async (text: string) => {
    const file = join(dir, `config-${Math.random().toString(36).slice(2)}`);
    await writeFile(file, `CONFIG_CC_VERSION_TEXT="${text}"\nCONFIG_CC_IS_GCC=y\n`);
    return file;
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpatch-toolchain-'));
    hostLine = (await execa('gcc', ['--version'])).stdout.split('\n')[0]!;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("uses the host when its gcc-N is the kernel's compiler", async () => {
    // The host's gcc as Debian's build names it: gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0.
    const major = /\) (\d+)\./.exec(hostLine)![1];
    const text = hostLine.replace(/^gcc /, `gcc-${major} `);
    expect(await chooseToolchain({ config: await config(text), suite: 'bookworm' })).toMatchObject({
      kind: 'host',
    });
  });

  it("asks for the suite's build root when the host has another compiler", async () => {
    const choice = await chooseToolchain({
      config: await config('x86_64-linux-gnu-gcc-99 (Debian 99.1.0-1) 99.1.0'),
      suite: 'trixie',
    });
    expect(choice).toMatchObject({
      kind: 'build-root',
      spec: { suite: 'trixie', compilerPackage: 'gcc-99', compilerVersion: '99.1.0-1' },
    });
    expect(choice.reason).toMatch(/no x86_64-linux-gnu-gcc-99/);
  });

  it('keeps --skip-compiler-check meaning "build with the host compiler anyway"', async () => {
    const choice = await chooseToolchain({
      config: await config('x86_64-linux-gnu-gcc-99 (Debian 99.1.0-1) 99.1.0'),
      suite: 'trixie',
      skipCompilerCheck: true,
    });
    expect(choice).toEqual({ kind: 'host', reason: '--skip-compiler-check' });
  });

  it('refuses a compiler that is neither on the host nor a Debian gcc, with a hint', async () => {
    await expect(
      chooseToolchain({ config: await config('clang version 99.0.0'), suite: 'trixie' }),
    ).rejects.toMatchObject({ code: 'build', hint: expect.stringMatching(/--skip-compiler-check/) });
  });
});

describe('build root layout', () => {
  const spec = { suite: 'trixie', compilerPackage: 'gcc-14', compilerVersion: '14.2.0-19' };
  it('is cached per suite and compiler version, the compiler pinned', () => {
    expect(buildRootDir(spec, '/c')).toBe('/c/build-roots/trixie-gcc-14-14.2.0-19');
    expect(buildRootPackages(spec)).toContain('gcc-14=14.2.0-19');
  });
  it('lists the security suite for stable releases only', () => {
    expect(buildRootSources('trixie')).toEqual([
      'deb http://deb.debian.org/debian trixie main',
      'deb http://deb.debian.org/debian trixie-updates main',
      'deb http://deb.debian.org/debian-security trixie-security main',
    ]);
    expect(buildRootSources('forky', { mirror: 'http://127.0.0.1:8080/debian' })).toEqual([
      'deb http://127.0.0.1:8080/debian forky main',
    ]);
  });
  it('refuses names that are not Debian names (they become paths and mmdebstrap arguments)', () => {
    expect(() => buildRootDir({ ...spec, suite: '../x' })).toThrow(/unexpected build root suite/);
  });
});
