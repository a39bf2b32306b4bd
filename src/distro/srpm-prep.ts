/**
 * A source RPM's %prep, as kpatch-build does it: the SRPM payload (spec, tarball, patches, configs) is
 * extracted by our own vetted reader into SOURCES/, then `rpmbuild -bp --nodeps` runs the spec's %prep
 * (unpack + apply the distro's patches) with the dist macros the distro's build had (%dist, %fedora/%rhel),
 * in a private _topdir and HOME so no user macros interfere. The tree is the directory named like
 * "linux-<release>" under BUILD/ (kernel.spec renames it so); it is moved to `tree`.
 * %prep is shell code from the package (with -r, the user's file): it runs sandboxed (prep-sandbox.ts).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { BuildError, DistroError, SourceError } from '../errors.js';
import { abortError } from '../source/abort.js';
import { extractRpm } from '../source/rpm.js';
import { chownWork, SANDBOX_TOPDIR, sandboxedCommand } from './prep-sandbox.js';

export interface SrpmPrepOptions {
  spec: string;
  /** rpm macros defined for %prep, e.g. { dist: ".fc39", fedora: "39" }. */
  defines: Record<string, string>;
  /** Directory name of the prepared tree under BUILD/, e.g. "linux-6.5.6-300.fc39.x86_64". */
  treeName: string;
  arch: string;
  logFile: string;
  signal?: AbortSignal;
}

async function findDir(root: string, name: string, depth: number): Promise<string | undefined> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory() && entry.name === name) return join(root, name);
  }
  if (depth === 0) return undefined;
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const found = await findDir(join(root, entry.name), name, depth - 1);
    if (found) return found;
  }
  return undefined;
}

/** A %prep that made no kernel tree (no top Makefile) is the SRPM's fault, said before any make runs. */
async function requireMakefile(prepared: string, srpm: string, logFile: string): Promise<void> {
  if ((await stat(join(prepared, 'Makefile')).catch(() => undefined))?.isFile()) return;
  throw new SourceError(`%prep of ${srpm} made ${prepared} without a Makefile: not a kernel source tree`, {
    hint: 'give a kernel source RPM (kernel-*.src.rpm) whose %prep unpacks the kernel tree',
    logPath: logFile,
  });
}

export async function prepFromSrpm(srpm: string, tree: string, options: SrpmPrepOptions): Promise<void> {
  const work = `${tree}.rpmbuild`;
  await rm(work, { recursive: true, force: true });
  const sources = join(work, 'SOURCES');
  await extractRpm(srpm, sources, { verify: false, signal: options.signal });
  const spec = join(sources, options.spec);
  if (!(await stat(spec).catch(() => undefined))?.isFile()) {
    throw new SourceError(`${srpm} has no ${options.spec}`, {
      hint: 'the source RPM is not the kernel package the data expects',
    });
  }
  await mkdir(join(work, 'BUILD'), { recursive: true });
  // Paths as %prep sees them: the work directory is mounted on SANDBOX_TOPDIR.
  const inside = (path: string) => join(SANDBOX_TOPDIR, relative(work, path));
  const defines = {
    _topdir: SANDBOX_TOPDIR,
    _sourcedir: inside(sources),
    _specdir: inside(sources),
    _builddir: inside(join(work, 'BUILD')),
    ...options.defines,
  };
  const args = ['-bp', '--nodeps', `--target=${options.arch}`];
  for (const [name, value] of Object.entries(defines)) {
    if (!/^\w+$/.test(name) || /[\n%]/.test(value))
      throw new DistroError(`refusing rpm macro ${name} "${value}"`);
    args.push('-D', `${name} ${value}`);
  }
  args.push(inside(spec));
  const log = createWriteStream(options.logFile);
  await chownWork(work, 'sandbox');
  const sandboxed = sandboxedCommand(work, 'rpmbuild', args);
  const child = execa(sandboxed.file, sandboxed.args, {
    reject: false,
    all: true,
    buffer: false,
    cwd: work,
    env: { HOME: SANDBOX_TOPDIR, LC_ALL: 'C', PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cancelSignal: options.signal,
  });
  child.all?.pipe(log);
  const result = await child;
  await new Promise((resolve) => log.end(resolve));
  await chownWork(work, 'caller');
  if (options.signal?.aborted) throw abortError(options.signal);
  if (result.failed) {
    const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT') {
      throw new SourceError("rpmbuild is not installed; it runs the source RPM's %prep", {
        hint: 'install it: apt-get install rpm (Debian/Ubuntu) or dnf install rpm-build',
      });
    }
    throw new BuildError(`rpmbuild -bp (the %prep of ${srpm}) failed (exit ${result.exitCode})`, {
      hint: "see the log; %prep may need tools the distro's build has (patch, xz, perl, make…)",
      logPath: options.logFile,
    });
  }
  const prepared = await findDir(join(work, 'BUILD'), options.treeName, 3);
  if (!prepared) {
    throw new SourceError(`%prep of ${srpm} produced no ${options.treeName} directory under BUILD/`, {
      hint: 'the spec names its tree differently; update prep.treeName in the distro data',
      logPath: options.logFile,
    });
  }
  await requireMakefile(prepared, srpm, options.logFile);
  await rename(prepared, tree);
  await rm(join(tree, '.git'), { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
}
