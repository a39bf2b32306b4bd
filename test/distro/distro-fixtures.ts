/**
 * Builds real-format distro archives at test time, with the distros' own tools: a tiny fake kernel tree
 * (its Makefile answers `make kernelrelease` like kbuild: KERNELVERSION + localversion files +
 * CONFIG_LOCALVERSION + $LOCALVERSION), Ubuntu source packages (dpkg-source -b) and binary packages
 * (dpkg-deb -b) with their archive indexes (dpkg-scanpackages, dpkg-scansources, a Release file), and
 * RPM distros' SRPMs (rpmbuild -bs), kernel-devel / kernel-core RPMs (rpmbuild -bb) and repodata
 * (createrepo_c), laid out where distro/<id>.json says the mirror has them.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import {
  expandOptional,
  loadAdapterData,
  type RpmData,
  type RpmLocation,
} from '../../src/distro/adapter-data.js';
import type { AdapterDistro } from '../../src/distro/distro-adapter.js';

export interface FakeKernel {
  version: number;
  patchlevel: number;
  sublevel: number;
}

/** A kernel-like tree: Makefile, scripts/setlocalversion, one C file a distro patch changes. */
export async function writeFakeKernel(dir: string, k: FakeKernel): Promise<void> {
  await mkdir(join(dir, 'scripts'), { recursive: true });
  await mkdir(join(dir, 'fs/proc'), { recursive: true });
  await writeFile(
    join(dir, 'Makefile'),
    [
      `VERSION = ${k.version}`,
      `PATCHLEVEL = ${k.patchlevel}`,
      `SUBLEVEL = ${k.sublevel}`,
      'EXTRAVERSION =',
      'NAME = Fake Kernel',
      'KERNELVERSION = $(VERSION)$(if $(PATCHLEVEL),.$(PATCHLEVEL)$(if $(SUBLEVEL),.$(SUBLEVEL)))$(EXTRAVERSION)',
      'kernelrelease:',
      '\t@echo "$(KERNELVERSION)$$($(SHELL) $(CURDIR)/scripts/setlocalversion)"',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'scripts/setlocalversion'),
    [
      '#!/bin/sh',
      'res=""',
      'for f in localversion*; do [ -f "$f" ] && res="$res$(cat "$f")"; done',
      'if [ -f include/config/auto.conf ]; then . ./include/config/auto.conf; res="$res$CONFIG_LOCALVERSION"; fi',
      'echo "$res$LOCALVERSION"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  await writeFile(join(dir, 'fs/proc/cmdline.c'), 'static int cmdline_proc_show(void)\n{\n\treturn 0;\n}\n');
}

/** The distro patch every fixture carries: one line added to fs/proc/cmdline.c. */
export function distroPatch(marker: string): string {
  return [
    '--- a/fs/proc/cmdline.c',
    '+++ b/fs/proc/cmdline.c',
    '@@ -1,4 +1,5 @@',
    ' static int cmdline_proc_show(void)',
    ' {',
    `+\t/* ${marker} */`,
    ' \treturn 0;',
    ' }',
    '',
  ].join('\n');
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export interface UbuntuFixture {
  release: string;
  /** e.g. "5.15.0-91.101" */
  version: string;
  series: string;
  /** Suite the indexes are published in, e.g. "jammy-updates". */
  suite: string;
  format: '1.0' | '3.0 (quilt)';
  /** The source package's name (default "linux"; e.g. "linux-hwe-6.8"), named by the binaries' Source field. */
  source?: string;
  /** Also publish linux-modules-extra-<release> (it is optional in distro/ubuntu.json). */
  modulesExtra?: boolean;
  /** The distro patch (default distroPatch(...)); with `real`, a debian/patches quilt patch. */
  patch?: string;
  /**
   * A real kernel instead of the fake tree (format 3.0 (quilt) only): its tarball is the orig tarball, and
   * its build's files go into the binary packages (modules as shipped by jammy: uncompressed .ko).
   */
  real?: RealKernelFiles;
}

/** The files a patch changes ("+++ b/README" → "README"). */
const patchedFiles = (patch: string) =>
  [...patch.matchAll(/^\+\+\+ b\/(\S+)/gm)].map((m) => m[1] ?? '').filter(Boolean);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A 3.0 (quilt) source package around a real orig tarball, with dpkg-source -b. The source directory
 * holds debian/ and only the files the patch changes (dpkg-source applies the patch to them); every other
 * path is in --extend-diff-ignore, so dpkg-source neither reports the rest of the tree as deleted nor
 * compares it: the package is the same, built in seconds instead of unpacking the tree twice.
 */
async function buildRealSourcePackage(
  work: string,
  dir: string,
  kver: string,
  real: RealKernelFiles,
  patch: string,
): Promise<void> {
  const origName = `linux_${kver}.orig.tar.${real.tarball.split('.').pop()}`;
  await copyFile(real.tarball, join(work, origName));
  const files = patchedFiles(patch);
  const extracted = join(work, 'orig-files');
  await mkdir(extracted, { recursive: true });
  await execa('tar', ['xf', real.tarball, '-C', extracted, ...files.map((f) => `${real.topDir}/${f}`)]);
  const kept = new Set<string>();
  for (const file of files) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(join(extracted, real.topDir, file), join(dir, file));
    for (let path = file; path !== '.'; path = dirname(path)) kept.add(path);
  }
  const ignore = `^(?!(?:${[...kept].map(escapeRegExp).join('|')})$)`;
  await execa('dpkg-source', [`--extend-diff-ignore=${ignore}`, '-b', basename(dir)], { cwd: work });
}

/**
 * An archive in the form Ubuntu publishes a kernel: the source package (1.0: orig.tar.gz + diff.gz as
 * Ubuntu's `linux`, or 3.0 (quilt)), linux-headers-, linux-modules-(extra-) and linux-image-unsigned-
 * <release> debs in pool/main/l/<source>/, and dists/<suite>/ with Packages.xz, Sources.xz and InRelease.
 */
export async function buildUbuntuArchive(root: string, work: string, fx: UbuntuFixture): Promise<void> {
  const [kver = '', abi = ''] = fx.version.split('-');
  const [v = 0, p = 0, s = 0] = kver.split('.').map(Number);
  const name = fx.source ?? 'linux';
  const src = join(work, `${name}-${kver}`);
  const patch = fx.patch ?? distroPatch(`ubuntu ${fx.version}`);
  if (!fx.real) {
    await writeFakeKernel(src, { version: v, patchlevel: p, sublevel: s });
    await execa('tar', ['czf', `${name}_${kver}.orig.tar.gz`, `${name}-${kver}`], { cwd: work });
  }
  await mkdir(join(src, 'debian/source'), { recursive: true });
  await writeFile(
    join(src, 'debian/changelog'),
    `${name} (${fx.version}) ${fx.series}; urgency=medium\n\n  * fixture\n\n -- Test <test@example.com>  Mon, 01 Jan 2024 00:00:00 +0000\n`,
  );
  await writeFile(
    join(src, 'debian/control'),
    `Source: ${name}\nMaintainer: Test <test@example.com>\n\nPackage: linux-source-fixture\nArchitecture: any\nDescription: fixture\n fixture\n`,
  );
  if (fx.format === '1.0') {
    if (fx.real) throw new Error('a real kernel fixture is a 3.0 (quilt) package');
    await execa('patch', ['-p1', '-d', src], { input: patch });
  } else {
    await writeFile(join(src, 'debian/source/format'), '3.0 (quilt)\n');
    await mkdir(join(src, 'debian/patches'));
    await writeFile(join(src, 'debian/patches/ubuntu.patch'), patch);
    await writeFile(join(src, 'debian/patches/series'), 'ubuntu.patch\n');
  }
  if (fx.real) await buildRealSourcePackage(work, src, kver, fx.real, patch);
  else await execa('dpkg-source', ['-b', `${name}-${kver}`], { cwd: work });
  const pool = join(root, 'pool/main/l', name);
  await mkdir(pool, { recursive: true });
  for (const file of await readdir(work)) {
    if (file.startsWith(`${name}_`) && /\.(dsc|tar\.\w+|diff\.gz)$/.test(file)) {
      await copyFile(join(work, file), join(pool, file));
    }
  }
  const rel = fx.release;
  const deb = async (pkg: string, files: Record<string, string | { copy: string }>) => {
    const dir = join(work, pkg);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      if (typeof content === 'string') await writeFile(join(dir, path), content);
      else await copyFile(content.copy, join(dir, path));
    }
    await mkdir(join(dir, 'DEBIAN'), { recursive: true });
    await writeFile(
      join(dir, 'DEBIAN/control'),
      `Package: ${pkg}\nSource: ${name}\nVersion: ${fx.version}\nArchitecture: amd64\nMaintainer: Test <test@example.com>\nDescription: fixture\n`,
    );
    await execa('dpkg-deb', ['--root-owner-group', '-b', dir, join(pool, `${pkg}_${fx.version}_amd64.deb`)]);
  };
  const headers = `usr/src/linux-headers-${rel}`;
  const modules = `lib/modules/${rel}`;
  if (fx.real) {
    const real = fx.real;
    await deb(`linux-headers-${rel}`, {
      [`${headers}/.config`]: { copy: real.config },
      [`${headers}/Module.symvers`]: { copy: real.moduleSymvers },
    });
    await deb(`linux-modules-${rel}`, {
      [`boot/System.map-${rel}`]: { copy: real.systemMap },
      ...Object.fromEntries(
        Object.entries(real.modules).map(([path, ko]) => [`${modules}/${path}`, { copy: ko }]),
      ),
    });
    await deb(`linux-image-unsigned-${rel}`, { [`boot/vmlinuz-${rel}`]: { copy: real.image } });
  } else {
    await deb(`linux-headers-${rel}`, {
      [`${headers}/.config`]: `CONFIG_LOCALVERSION=""\nCONFIG_UBUNTU_FIXTURE=y\n`,
      [`${headers}/Module.symvers`]: '0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n',
    });
    await deb(`linux-modules-${rel}`, {
      [`boot/System.map-${rel}`]: `ffffffff81000000 T _text ${abi}\n`,
      [`${modules}/kernel/fs/fixture.ko`]: `fake module ${fx.version}\n`,
    });
    if (fx.modulesExtra) {
      await deb(`linux-modules-extra-${rel}`, {
        [`${modules}/kernel/drivers/extra-fixture.ko`]: `fake extra module ${fx.version}\n`,
      });
    }
    await deb(`linux-image-unsigned-${rel}`, { [`boot/vmlinuz-${rel}`]: `fake vmlinuz ${fx.version}\n` });
  }
  await publishAptIndexes(root, fx);
}

/** dists/<suite>/: Packages.xz and Sources.xz of the whole pool, and an InRelease listing their SHA256. */
async function publishAptIndexes(root: string, fx: UbuntuFixture): Promise<void> {
  const dist = join(root, 'dists', fx.suite);
  await mkdir(join(dist, 'main/binary-amd64'), { recursive: true });
  await mkdir(join(dist, 'main/source'), { recursive: true });
  const packages = (await execa('dpkg-scanpackages', ['-m', 'pool', '/dev/null'], { cwd: root })).stdout;
  const sources = (await execa('dpkg-scansources', ['pool', '/dev/null'], { cwd: root })).stdout;
  const lines: string[] = [];
  for (const [path, text] of [
    ['main/binary-amd64/Packages.xz', packages],
    ['main/source/Sources.xz', sources],
  ] as const) {
    const data = Buffer.from((await execa('xz', ['-c'], { input: `${text}\n`, encoding: 'buffer' })).stdout);
    await writeFile(join(dist, path), data);
    lines.push(` ${sha256(data)} ${data.length} ${path}`);
  }
  await writeFile(
    join(dist, 'InRelease'),
    `Origin: Fixture\nSuite: ${fx.suite}\nCodename: ${fx.series}\nSHA256:\n${lines.join('\n')}\n`,
  );
}

export interface RpmFixture {
  id: AdapterDistro;
  release: string;
  version: string;
  /** Release without the dist tag ("300", "362.8.1"). */
  relBase: string;
  /** ".fc39", ".el9_3" */
  dist: string;
  /** For each package key (source, devel, core): which repository candidate of the data to publish in. */
  candidate?: Partial<Record<string, number>>;
  /** The SRPM's distro patch, if not distroPatch(...) (e.g. one that does not apply). */
  patch?: string;
  /** A real kernel instead of the fake tree: its source tarball and the files its build produced. */
  real?: RealKernelFiles;
}

export interface RealKernelFiles {
  /** The source tarball (.tar.xz) and its top directory (e.g. "linux-source-6.1"). */
  tarball: string;
  topDir: string;
  config: string;
  moduleSymvers: string;
  systemMap: string;
  /** The bootable image (bzImage): Fedora's lib/modules/<release>/vmlinuz, Ubuntu's boot/vmlinuz-<release>. */
  image: string;
  /** Built modules by their path under lib/modules/<release> (e.g. kernel/samples/kobject/x.ko): Fedora ships them .ko.xz. */
  modules: Record<string, string>;
}

const RPM_DEFINES = [
  '-D',
  'debug_package %{nil}',
  '-D',
  '__os_install_post %{nil}',
  '-D',
  '_build_id_links none',
];

/** Builds the kernel SRPM and kernel-devel / kernel-core RPMs of a release with rpmbuild. */
export async function buildKernelRpms(work: string, fx: RpmFixture): Promise<Record<string, string>> {
  const top = join(work, 'rpmbuild');
  const sources = join(top, 'SOURCES');
  await mkdir(sources, { recursive: true });
  const [v = 0, p = 0, s = 0] = fx.version.split('.').map(Number);
  const topDir = fx.real?.topDir ?? `linux-${fx.version}`;
  if (fx.real) {
    await copyFile(fx.real.tarball, join(sources, `linux-${fx.version}.tar.xz`));
  } else {
    const tarDir = join(work, 'tar');
    await writeFakeKernel(join(tarDir, topDir), { version: v, patchlevel: p, sublevel: s });
    await execa('tar', ['cJf', join(sources, `linux-${fx.version}.tar.xz`), topDir], { cwd: tarDir });
  }
  await writeFile(join(sources, 'distro.patch'), fx.patch ?? distroPatch(`${fx.id} ${fx.release}`));
  const header = [
    `Name: kernel`,
    `Version: ${fx.version}`,
    `Release: ${fx.relBase}%{?dist}`,
    'Summary: fixture',
    'License: GPLv2',
  ];
  await writeFile(
    join(sources, 'kernel.spec'),
    [
      ...header,
      `Source0: linux-${fx.version}.tar.xz`,
      'Patch1: distro.patch',
      '%description',
      'fixture',
      '%prep',
      '%setup -q -c -n kernel-%{version}',
      `cd ${topDir}`,
      '%patch -P 1 -p1',
      'cd ..',
      `mv ${topDir} linux-%{version}-%{release}.%{_target_cpu}`,
      '%build',
      '%files',
      '',
    ].join('\n'),
  );
  const rel = fx.release;
  if (fx.real) {
    await copyFile(fx.real.config, join(sources, 'config'));
    await copyFile(fx.real.moduleSymvers, join(sources, 'Module.symvers'));
    await copyFile(fx.real.systemMap, join(sources, 'System.map'));
    await copyFile(fx.real.image, join(sources, 'vmlinuz'));
    await mkdir(join(sources, 'modules'));
    for (const [path, ko] of Object.entries(fx.real.modules)) {
      // As Fedora and the RHEL family ship them: xz-compressed.
      await mkdir(dirname(join(sources, 'modules', path)), { recursive: true });
      await copyFile(ko, join(sources, 'modules', path));
      await execa('xz', ['--check=crc32', join(sources, 'modules', path)]);
    }
  } else {
    await writeFile(
      join(sources, 'config'),
      `CONFIG_LOCALVERSION=""\nCONFIG_${fx.id.toUpperCase()}_FIXTURE=y\n`,
    );
    await writeFile(join(sources, 'Module.symvers'), '0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n');
    await writeFile(join(sources, 'System.map'), `ffffffff81000000 T _text ${fx.id}\n`);
    await writeFile(join(sources, 'vmlinuz'), `fake vmlinuz ${fx.id}\n`);
    await mkdir(join(sources, 'modules/kernel/fs'), { recursive: true });
    await writeFile(join(sources, 'modules/kernel/fs/fixture.ko'), `fake module ${fx.id}\n`);
    await execa('xz', [join(sources, 'modules/kernel/fs/fixture.ko')]);
  }
  await writeFile(
    join(sources, 'kernel-bin.spec'),
    [
      ...header,
      '%description',
      'fixture',
      '%package devel',
      'Summary: devel',
      '%description devel',
      'devel',
      '%package core',
      'Summary: core',
      '%description core',
      'core',
      '%package modules',
      'Summary: modules',
      '%description modules',
      'modules',
      '%install',
      `mkdir -p %{buildroot}/usr/src/kernels/${rel} %{buildroot}/lib/modules/${rel}`,
      `cp %{_sourcedir}/config %{buildroot}/usr/src/kernels/${rel}/.config`,
      `cp %{_sourcedir}/Module.symvers %{buildroot}/usr/src/kernels/${rel}/Module.symvers`,
      `cp %{_sourcedir}/System.map %{buildroot}/lib/modules/${rel}/System.map`,
      `cp %{_sourcedir}/vmlinuz %{buildroot}/lib/modules/${rel}/vmlinuz`,
      `ln -s ../../lib/modules/${rel} %{buildroot}/usr/src/kernels/${rel}/modules-link`,
      `cp -r %{_sourcedir}/modules/kernel %{buildroot}/lib/modules/${rel}/kernel`,
      '%files devel',
      '/usr/src/kernels',
      '%files core',
      `/lib/modules/${rel}/System.map`,
      `/lib/modules/${rel}/vmlinuz`,
      '%files modules',
      `/lib/modules/${rel}/kernel`,
      '',
    ].join('\n'),
  );
  // A real kernel's 139 MB tarball is already compressed: gzip -1 payloads keep rpmbuild fast.
  const payload = fx.real ? ['-D', '_source_payload w1.gzdio', '-D', '_binary_payload w1.gzdio'] : [];
  const common = ['-D', `_topdir ${top}`, '-D', `dist ${fx.dist}`, ...RPM_DEFINES, ...payload];
  await execa('rpmbuild', ['-bs', ...common, join(sources, 'kernel.spec')]);
  await execa('rpmbuild', ['-bb', '--target', 'x86_64', ...common, join(sources, 'kernel-bin.spec')]);
  const base = `${fx.version}-${fx.relBase}${fx.dist}`;
  return {
    source: join(top, 'SRPMS', `kernel-${base}.src.rpm`),
    devel: join(top, 'RPMS/x86_64', `kernel-devel-${base}.x86_64.rpm`),
    core: join(top, 'RPMS/x86_64', `kernel-core-${base}.x86_64.rpm`),
    modules: join(top, 'RPMS/x86_64', `kernel-modules-${base}.x86_64.rpm`),
  };
}

/** Puts the RPMs where distro/<id>.json looks for them under `root` (served at `mirror`), with repodata. */
export async function publishRpms(
  root: string,
  mirror: string,
  fx: RpmFixture,
  rpms: Record<string, string>,
): Promise<void> {
  const data = loadAdapterData<RpmData>(fx.id);
  const match = new RegExp(data.releasePattern).exec(fx.release);
  const values: Record<string, string> = { release: fx.release };
  for (const [k, v] of Object.entries(match?.groups ?? {})) if (v !== undefined) values[k] = v;
  for (const key of Object.keys(data.mirrors)) values[key] = mirror;
  const repos = new Set<string>();
  for (const [key, location] of Object.entries({ source: data.source, ...data.binaries })) {
    const rpm = rpms[key];
    if (!rpm && (location as RpmLocation).optional) continue; // a release without it
    if (!rpm) throw new Error(`no ${key} rpm built`);
    const candidates = (location.repositories ?? location.urls ?? [])
      .map((t) => expandOptional(t, values))
      .filter((u): u is string => u !== undefined);
    const url = candidates[fx.candidate?.[key] ?? 0];
    if (!url) throw new Error(`no candidate ${fx.candidate?.[key]} for ${key}`);
    const path = join(root, new URL(url).pathname);
    if (location.repositories) {
      await mkdir(join(path, 'Packages'), { recursive: true });
      await copyFile(rpm, join(path, 'Packages', rpm.split('/').pop() ?? ''));
      repos.add(path);
    } else {
      await mkdir(dirname(path), { recursive: true });
      await copyFile(rpm, path);
    }
  }
  for (const repo of repos) await execa('createrepo_c', ['--no-database', '--quiet', repo]);
}

/** Flips one byte of a file (in its second half, i.e. in the payload of a package). */
export async function corrupt(path: string): Promise<void> {
  const data = await readFile(path);
  const at = Math.floor(data.length * 0.75);
  data[at] = (data[at] ?? 0) ^ 0xff;
  await writeFile(path, data);
}
