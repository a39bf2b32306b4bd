import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import {
  configCompiler,
  debianKbuildRecipe,
  kernelReleaseOf,
  kernelVariables,
  localBuildConfig,
  sourcePrepareKey,
} from '../../src/distro/debian-kbuild.js';
import { checkSourceVersion } from '../../src/distro/debian-source-tree.js';
import type { PreparedDistroSource } from '../../src/distro/distro-adapter.js';
import { BuildError, DistroError } from '../../src/errors.js';
import { buildSingleObjects, cmdFileOf, singleObjectTarget } from '../../src/kbuild/build-single-objects.js';
import { hostToolchain } from '../../src/kbuild/toolchain.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const target = { release: '6.1.0-56-amd64', packageVersion: '6.1.192-2' };

describe('checkSourceVersion', () => {
  it('accepts the same Debian package version as the image', () => {
    expect(() =>
      checkSourceVersion(target, { package: 'linux-source-6.1', version: '6.1.192-2' }),
    ).not.toThrow();
  });

  it('refuses another version with a DistroError and a hint', () => {
    let error: unknown;
    try {
      checkSourceVersion(target, { package: 'linux-source-6.1', version: '6.1.193-1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DistroError);
    const distro = error as DistroError;
    expect(distro.code).toBe('distro');
    expect(distro.message).toContain('linux-source-6.1 6.1.193-1');
    expect(distro.message).toContain('6.1.0-56-amd64');
    expect(distro.message).toContain('6.1.192-2');
    expect(distro.hint).toMatch(/debian:latest/);
  });
});

describe('kernelVariables', () => {
  it('overrides KERNELRELEASE with the ABI name, as Debian does', () => {
    const text = kernelVariables({ ...target, cc: 'gcc-12' });
    expect(text).toContain('override KERNELRELEASE = 6.1.0-56-amd64\n');
    expect(text).toContain('CC = gcc-12\n');
    expect(text).toContain('DISTRIBUTION_VERSION = 6.1.192-2\n');
    expect(kernelReleaseOf(text)).toBe('6.1.0-56-amd64');
  });

  it('refuses values that would break the makefile', () => {
    expect(() => kernelVariables({ ...target, cc: 'gcc; rm -rf /' })).toThrow(DistroError);
    expect(() => kernelVariables({ ...target, cc: 'gcc-12', release: '6.1.0\nFOO=1' })).toThrow(DistroError);
  });

  it("reads KERNELRELEASE from Debian's headers .kernelvariables", () => {
    const debian = 'override ARCH = x86\noverride KERNELRELEASE = 6.1.0-56-amd64\nCCACHE = ccache\n';
    expect(kernelReleaseOf(debian)).toBe('6.1.0-56-amd64');
    expect(kernelReleaseOf('KERNELRELEASE := 6.1.0-1-cloud-amd64')).toBe('6.1.0-1-cloud-amd64');
    expect(kernelReleaseOf('ARCH = x86\n')).toBeUndefined();
  });
});

describe('configCompiler', () => {
  it('takes the compiler command from CONFIG_CC_VERSION_TEXT', () => {
    expect(configCompiler('CONFIG_CC_VERSION_TEXT="gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"\n')).toBe(
      'gcc-12',
    );
    expect(configCompiler('CONFIG_X=y\n')).toBe('gcc');
  });
});

describe('localBuildConfig', () => {
  const config = [
    'CONFIG_LOCALVERSION=""',
    'CONFIG_SYSTEM_TRUSTED_KEYS="debian/certs/debian-uefi-certs.pem"',
    '# CONFIG_SYSTEM_REVOCATION_KEYS is not set',
    'CONFIG_MODULE_SIG=y',
    '',
  ].join('\n');

  it('blanks the signing keys, points MODULE_SIG_KEY at a local file and sets BUILD_SALT', () => {
    const out = localBuildConfig(config, '6.1.0-56-amd64');
    expect(out).toContain('CONFIG_SYSTEM_TRUSTED_KEYS=""\n');
    expect(out).toContain('CONFIG_SYSTEM_REVOCATION_KEYS=""\n');
    expect(out).not.toContain('# CONFIG_SYSTEM_REVOCATION_KEYS is not set');
    expect(out).toContain('CONFIG_MODULE_SIG_KEY="certs/signing_key.pem"\n');
    expect(out).toContain('CONFIG_BUILD_SALT="6.1.0-56-amd64"\n');
    expect(out).toContain('CONFIG_MODULE_SIG=y\n');
    expect(out.match(/CONFIG_SYSTEM_TRUSTED_KEYS/g)).toHaveLength(1);
  });

  it('is idempotent', () => {
    const once = localBuildConfig(config, '6.1.0-56-amd64');
    expect(localBuildConfig(once, '6.1.0-56-amd64')).toBe(once);
  });
});

describe('sourcePrepareKey', () => {
  const parts = {
    packageVersion: '6.1.192-2',
    sourceSha256: 'ab',
    config: 'CONFIG_X=y\n',
    kernelVariables: 'override KERNELRELEASE = 6.1.0-56-amd64\n',
    compiler: 'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0',
  };
  it('changes with every input', () => {
    const key = sourcePrepareKey(parts);
    expect(sourcePrepareKey({ ...parts })).toBe(key);
    for (const name of Object.keys(parts) as (keyof typeof parts)[]) {
      expect(sourcePrepareKey({ ...parts, [name]: `${parts[name]}x` })).not.toBe(key);
    }
  });

  it('changes for a tree the module is built in (build roots) but not for the trees prepared before', () => {
    const key = sourcePrepareKey(parts);
    // Pinned: a bookworm tree prepared before modulesInTree existed keeps its key, so it is not prepared again.
    expect(key).toBe(sourcePrepareKey({ ...parts, modulesInTree: undefined }));
    // Pinned to the values trees in today's caches were stamped with: a change would prepare them all again.
    expect(key).toBe('0320a67c61646e9b');
    expect(sourcePrepareKey({ ...parts, modulesInTree: true })).toBe('38eab67a750ef70a');
    expect(sourcePrepareKey({ ...parts, modulesInTree: true })).not.toBe(key);
  });
});

describe('single object targets', () => {
  it('normalizes object paths and names their .cmd files', () => {
    expect(singleObjectTarget('./fs/proc/cmdline.o')).toBe('fs/proc/cmdline.o');
    expect(cmdFileOf('fs/proc/cmdline.o')).toBe('fs/proc/.cmdline.o.cmd');
    expect(cmdFileOf('foo.o')).toBe('.foo.o.cmd');
  });

  it('refuses paths outside the tree or that are not objects', async () => {
    for (const bad of ['/etc/passwd.o', '../x.o', 'fs/proc/cmdline.c', 'a b.o']) {
      expect(() => singleObjectTarget(bad)).toThrow(BuildError);
    }
    await expect(buildSingleObjects('/nonexistent', ['../x.o'], { logFile: '/dev/null' })).rejects.toThrow(
      BuildError,
    );
  });
});

describe('debianKbuildRecipe', () => {
  const unpacked = {
    format: 1,
    release: '6.1.0-56-amd64',
    sourcePackage: 'linux-source-6.1',
    packageVersion: '6.1.192-2',
    sourceSha256: 'ae95',
  };
  const imageConfig = 'CONFIG_CC_VERSION_TEXT="gcc (Debian 12.2.0-14) 12.2.0"\nCONFIG_X=y\n';

  async function unpackedSource(): Promise<PreparedDistroSource> {
    const dir = await mkdtemp(join(tmpdir(), 'kpb-debian-kbuild-'));
    dirs.push(dir);
    await writeFile(join(dir, 'source.json'), JSON.stringify(unpacked));
    await writeFile(join(dir, 'config'), imageConfig);
    return {
      distro: 'debian',
      release: '6.1.0-56-amd64',
      packageVersion: '6.1.192-2',
      tree: join(dir, 'source'),
      config: join(dir, 'config'),
      moduleSymvers: join(dir, 'headers/Module.symvers'),
      systemMap: join(dir, 'kallsyms'),
      headersDir: join(dir, 'headers'),
      utsDefines: [],
      verified: {},
      cached: true,
    };
  }

  it("writes Debian's .kernelvariables and local config, makes prepare, keys the stamp as prepared trees are keyed", async () => {
    const source = await unpackedSource();
    const recipe = await debianKbuildRecipe(source, { toolchain: hostToolchain, modulesInTree: false });
    const vars = kernelVariables({ release: source.release, packageVersion: '6.1.192-2', cc: 'gcc' });
    const config = localBuildConfig(imageConfig, source.release);
    expect(recipe.files).toEqual([
      { name: '.kernelvariables', text: vars },
      { name: '.config', text: config },
    ]);
    expect(recipe.targets).toEqual(['prepare']);
    expect(recipe.moduleSymvers).toBeUndefined();
    expect(recipe.products).toEqual(['tools/objtool/objtool']);
    expect(recipe.checkMakeKernelRelease).toBe(false);
    expect(recipe.lock).toBe(join(source.tree, '..', '.source.lock'));
    const compiler = (await execa('gcc', ['--version'])).stdout.split('\n')[0] ?? '';
    const key = sourcePrepareKey({
      packageVersion: '6.1.192-2',
      sourceSha256: 'ae95',
      config,
      kernelVariables: vars,
      compiler,
    });
    const stampFile = join(source.tree, '..', 'source.json');
    expect(await recipe.stamp.isCurrent()).toBe(false);
    await recipe.stamp.record();
    expect(JSON.parse(await readFile(stampFile, 'utf8'))).toEqual({ ...unpacked, key });
    expect(await recipe.stamp.isCurrent()).toBe(true);
    await recipe.stamp.clear();
    expect(JSON.parse(await readFile(stampFile, 'utf8'))).toEqual(unpacked);
  });

  it('adds modules_prepare, the target Module.symvers and module.lds when the module is built in the tree', async () => {
    const source = await unpackedSource();
    const inTree = await debianKbuildRecipe(source, { toolchain: hostToolchain, modulesInTree: true });
    const headers = await debianKbuildRecipe(source, { toolchain: hostToolchain, modulesInTree: false });
    expect(inTree.targets).toEqual(['prepare', 'modules_prepare']);
    expect(inTree.moduleSymvers).toBe(source.moduleSymvers);
    expect(inTree.products).toEqual(['tools/objtool/objtool', 'scripts/module.lds']);
    await headers.stamp.record();
    expect(await inTree.stamp.isCurrent()).toBe(false);
  });

  it('refuses a source that was never unpacked', async () => {
    const source = await unpackedSource();
    await rm(join(source.tree, '..', 'source.json'));
    await expect(
      debianKbuildRecipe(source, { toolchain: hostToolchain, modulesInTree: false }),
    ).rejects.toThrow(DistroError);
  });
});
