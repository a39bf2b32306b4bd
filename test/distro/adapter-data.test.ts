import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandOptional, loadAdapterData, mirrorEnvName, mirrorsFor } from '../../src/distro/adapter-data.js';
import { ADAPTER_DISTROS } from '../../src/distro/distro-adapter.js';
import { distroAdapter } from '../../src/distro/distro-adapters.js';
import {
  appendUtsDefines,
  checkKernelRelease,
  makeKernelRelease,
  setMakefileVariables,
  utsDefineLines,
} from '../../src/distro/release-rules.js';
import { BuildError, DistroError } from '../../src/errors.js';
import { tempDir } from '../source/helpers.js';
import { writeFakeKernel } from './distro-fixtures.js';

describe('parseRelease from distro/<id>.json', () => {
  it.each([
    ['ubuntu', '5.15.0-91-generic', { kver: '5.15.0', abi: '91', flavour: 'generic' }],
    ['ubuntu', '6.8.0-1015-aws', { kver: '6.8.0', abi: '1015', flavour: 'aws' }],
    ['ubuntu', '5.15.0-1042-intel-iotg', { kver: '5.15.0', abi: '1042', flavour: 'intel-iotg' }],
    [
      'fedora',
      '6.5.6-300.fc39.x86_64',
      { version: '6.5.6', rel: '300.fc39', dist: 'fc39', major: '39', arch: 'x86_64' },
    ],
    ['fedora', '6.11.4-201.fc40.x86_64', { version: '6.11.4', rel: '201.fc40', major: '40' }],
    ['centos', '5.14.0-362.el9.x86_64', { version: '5.14.0', rel: '362.el9', dist: 'el9', major: '9' }],
    [
      'almalinux',
      '5.14.0-362.8.1.el9_3.x86_64',
      { rel: '362.8.1.el9_3', dist: 'el9_3', major: '9', minor: '3' },
    ],
    ['rocky', '4.18.0-513.5.1.el8_9.x86_64', { version: '4.18.0', major: '8', minor: '9' }],
    ['ol', '5.14.0-362.8.1.0.1.el9_3.x86_64', { rel: '362.8.1.0.1.el9_3', minor: '3' }],
  ] as const)('%s %s', (id, release, parts) => {
    const parsed = distroAdapter(id).parseRelease(release);
    expect(parsed.release).toBe(release);
    expect(parsed.parts).toMatchObject(parts);
  });

  it.each([
    ['ubuntu', '5.15.0-91'],
    ['ubuntu', '6.1.0-56-amd64.x86_64'],
    ['fedora', '6.5.6-300.el9.x86_64'],
    ['fedora', '6.5.6-300.fc39.aarch64'],
    ['centos', '6.5.6-300.fc39.x86_64'],
    ['rocky', '5.14.0-362.el9'],
    ['ol', '5.15.0-200.131.27.el9uek.x86_64'],
  ] as const)('%s refuses %s with the expected form in the hint', (id, release) => {
    const error = (() => {
      try {
        distroAdapter(id).parseRelease(release);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DistroError);
    expect((error as DistroError).message).toContain(release);
    expect((error as DistroError).hint).toContain(loadAdapterData(id).releaseExample);
  });
});

describe('artifact URLs from the data', () => {
  it("Fedora: koji's package layout, without any network access", async () => {
    const resolved = await distroAdapter('fedora').resolveArtifacts('6.5.6-300.fc39.x86_64', {
      cacheDir: await tempDir(),
    });
    const koji = 'https://kojipkgs.fedoraproject.org/packages/kernel/6.5.6/300.fc39';
    const found = [...resolved.source, ...resolved.binaries];
    expect(found.map((a) => [a.role, a.url, a.verification, a.optional ?? false])).toEqual([
      ['srpm', `${koji}/src/kernel-6.5.6-300.fc39.src.rpm`, 'rpm-digests', false],
      ['devel', `${koji}/x86_64/kernel-devel-6.5.6-300.fc39.x86_64.rpm`, 'rpm-digests', false],
      ['core', `${koji}/x86_64/kernel-core-6.5.6-300.fc39.x86_64.rpm`, 'rpm-digests', false],
      ['modules-core', `${koji}/x86_64/kernel-modules-core-6.5.6-300.fc39.x86_64.rpm`, 'rpm-digests', true],
      ['modules', `${koji}/x86_64/kernel-modules-6.5.6-300.fc39.x86_64.rpm`, 'rpm-digests', false],
      ['modules-extra', `${koji}/x86_64/kernel-modules-extra-6.5.6-300.fc39.x86_64.rpm`, 'rpm-digests', true],
    ]);
    expect(resolved.packageVersion).toBe('6.5.6-300.fc39');
  });

  it.each(ADAPTER_DISTROS)('%s: a mirror override replaces every base URL', (id) => {
    const data = loadAdapterData(id);
    const mirrors = mirrorsFor(data, 'http://127.0.0.1:8080/m/');
    expect(Object.keys(mirrors)).toEqual(Object.keys(data.mirrors));
    expect(new Set(Object.values(mirrors))).toEqual(new Set(['http://127.0.0.1:8080/m']));
    expect(mirrorsFor(data, undefined, { [mirrorEnvName(id)]: 'http://10.0.0.1' })).toEqual(
      Object.fromEntries(Object.keys(data.mirrors).map((k) => [k, 'http://10.0.0.1'])),
    );
    expect(mirrorsFor(data, undefined, {})).toEqual(data.mirrors);
    expect(() => mirrorsFor(data, 'file:///etc')).toThrow(DistroError);
  });

  it('skips templates that need a value the release does not have', () => {
    expect(expandOptional('{m}/vault/{major}.{minor}/BaseOS/', { m: 'x', major: '9' })).toBeUndefined();
    expect(expandOptional('{m}/{major}/BaseOS/', { m: 'x', major: '9' })).toBe('x/9/BaseOS/');
  });
});

describe('release rules', () => {
  const makefile = 'VERSION = 6\nPATCHLEVEL = 5\nSUBLEVEL = 6\nEXTRAVERSION =\nKERNELVERSION = $(VERSION)\n';

  it.each([
    [{ EXTRAVERSION: '-300.fc39.x86_64' }, 'EXTRAVERSION = -300.fc39.x86_64\n'],
    [{ KERNELVERSION: '5.15.0-91-generic' }, 'KERNELVERSION = 5.15.0-91-generic\n'],
    [{ SUBLEVEL: '' }, 'SUBLEVEL =\n'],
  ])('sets %j', (vars, line) => {
    const out = setMakefileVariables(makefile, vars, 'Makefile');
    expect(out).toContain(line);
    expect(out.split('\n').length).toBe(makefile.split('\n').length);
  });

  it.each([
    [{ EXTRAVERSION: '-1; rm -rf /' }, /unexpected characters/],
    [{ NOSUCH: 'x' }, /has no "NOSUCH =" line/],
  ])('refuses %j', (vars, message) => {
    expect(() => setMakefileVariables(makefile, vars, 'Makefile')).toThrow(message);
  });

  it.each([
    ['Fedora', { EXTRAVERSION: '-300.fc39.x86_64' }, '', '6.5.6-300.fc39.x86_64'],
    ['Ubuntu', { KERNELVERSION: '6.5.0-9-generic' }, '', '6.5.0-9-generic'],
    [
      'a localversion file spoils it',
      { EXTRAVERSION: '-300.fc39.x86_64' },
      '-dirty',
      '6.5.6-300.fc39.x86_64-dirty',
    ],
  ])('%s: make kernelrelease of a kernel-like tree', async (_name, vars, localversion, expected) => {
    const tree = await tempDir();
    await writeFakeKernel(tree, { version: 6, patchlevel: 5, sublevel: 6 });
    await writeFile(
      join(tree, 'Makefile'),
      setMakefileVariables(await readFile(join(tree, 'Makefile'), 'utf8'), vars, 'Makefile'),
    );
    if (localversion) await writeFile(join(tree, 'localversion-x'), localversion);
    process.env.LOCALVERSION = '-from-the-environment'; // must not leak into the check
    try {
      expect(await makeKernelRelease(tree)).toBe(expected);
    } finally {
      delete process.env.LOCALVERSION;
    }
  });

  // A real kbuild tree (scripts/kconfig) before make prepare cannot run `make kernelrelease` (it needs
  // include/config/auto.conf): the release is composed from kernelversion, localversion* and .config.
  it.each([
    ['the Makefile alone', '', '', undefined],
    ['a localversion file', '-dirty\n', '', '6.5.6-300.fc39.x86_64-dirty'],
    ['CONFIG_LOCALVERSION', '', 'CONFIG_LOCALVERSION="-custom"\n', '6.5.6-300.fc39.x86_64-custom'],
  ])('checks the release of an unconfigured kbuild tree: %s', async (_name, localversion, config, wrong) => {
    const tree = await tempDir();
    await mkdir(join(tree, 'scripts/kconfig'), { recursive: true });
    await writeFile(
      join(tree, 'Makefile'),
      [
        'VERSION = 6',
        'PATCHLEVEL = 5',
        'SUBLEVEL = 6',
        'EXTRAVERSION = -300.fc39.x86_64',
        'KERNELVERSION = $(VERSION).$(PATCHLEVEL).$(SUBLEVEL)$(EXTRAVERSION)',
        'kernelversion:',
        '\t@echo $(KERNELVERSION)',
        'kernelrelease:',
        '\t@echo "kernelrelease needs include/config/auto.conf" >&2; exit 2',
        '',
      ].join('\n'),
    );
    if (localversion) await writeFile(join(tree, 'localversion-x'), localversion);
    await writeFile(join(tree, '.config'), `CONFIG_64BIT=y\n${config}`);
    const check = checkKernelRelease(tree, '6.5.6-300.fc39.x86_64');
    if (wrong === undefined) await expect(check).resolves.toBeUndefined();
    else {
      await expect(check).rejects.toThrow(BuildError);
      await expect(checkKernelRelease(tree, '6.5.6-300.fc39.x86_64')).rejects.toThrow(
        `CONFIG_LOCALVERSION) is "${wrong}", not the target's`,
      );
    }
  });

  it('appends UTS_UBUNTU_RELEASE_ABI to utsrelease.h once', async () => {
    const tree = await tempDir();
    await mkdir(join(tree, 'include/generated'), { recursive: true });
    await writeFile(
      join(tree, 'include/generated/utsrelease.h'),
      '#define UTS_RELEASE "5.15.0-91-generic"\n',
    );
    const lines = utsDefineLines({ UTS_UBUNTU_RELEASE_ABI: '91' });
    await appendUtsDefines(tree, lines);
    await appendUtsDefines(tree, lines);
    expect(await readFile(join(tree, 'include/generated/utsrelease.h'), 'utf8')).toBe(
      '#define UTS_RELEASE "5.15.0-91-generic"\n#define UTS_UBUNTU_RELEASE_ABI 91\n',
    );
    await expect(appendUtsDefines(await tempDir(), lines)).rejects.toThrow(/utsrelease\.h does not exist/);
  });
});
