/**
 * Making a distro source tree name itself as the target kernel: the distro's build sets top-level Makefile
 * variables (Fedora/RHEL kernel.spec rewrites EXTRAVERSION to "-<release>.<arch>"; Ubuntu's rules pass
 * KERNELVERSION=<kver>-<abi>-<flavour> to make), so `make kernelrelease`, utsrelease.h and vermagic say
 * the release `uname -r` prints. Here the same values are written into the Makefile, so every later make
 * in the tree (olddefconfig, prepare, single objects) gets them without extra arguments.
 */
import { access, appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { BuildError, DistroError } from '../errors.js';

const SAFE_VALUE = /^[A-Za-z0-9._+~-]*$/;

/** Rewrites `NAME = …` assignment lines of a Makefile text; each variable must have such a line. */
export function setMakefileVariables(
  makefile: string,
  vars: Readonly<Record<string, string>>,
  where: string,
): string {
  let text = makefile;
  for (const [name, value] of Object.entries(vars)) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name) || !SAFE_VALUE.test(value)) {
      throw new DistroError(`refusing Makefile variable ${name} = "${value}" (unexpected characters)`);
    }
    const pattern = new RegExp(`^${name}[ \\t]*[:?]?=.*$`, 'm');
    if (!pattern.test(text)) {
      throw new DistroError(`${where} has no "${name} =" line to set`, {
        hint: 'the source tree is not a kernel tree of the expected layout',
      });
    }
    text = text.replace(pattern, value === '' ? `${name} =` : `${name} = ${value}`);
  }
  return text;
}

export async function applyMakefileVariables(
  tree: string,
  vars: Readonly<Record<string, string>>,
): Promise<void> {
  const file = join(tree, 'Makefile');
  const text = await readFile(file, 'utf8');
  await writeFile(file, setMakefileVariables(text, vars, file));
}

/** Variables from the caller's environment that would change what kbuild computes. */
const KBUILD_ENV = [
  'LOCALVERSION',
  'KERNELRELEASE',
  'KERNELVERSION',
  'EXTRAVERSION',
  'MAKEFLAGS',
  'MAKELEVEL',
];

async function makeQuiet(tree: string, target: string, signal?: AbortSignal): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !KBUILD_ENV.includes(key)));
  const result = await execa('make', ['-s', '-C', tree, target], {
    reject: false,
    extendEnv: false,
    env: { ...env, LC_ALL: 'C' },
    cancelSignal: signal,
  });
  if (result.failed) {
    throw new BuildError(
      `make ${target} failed in ${tree}: ${(result.stderr || result.shortMessage || '').trim()}`,
      {
        hint: 'the prepared tree is broken; delete it so it is prepared again',
      },
    );
  }
  return result.stdout.trim().split('\n').pop() ?? '';
}

/** What `make -s kernelrelease` prints in `tree`. */
export async function makeKernelRelease(tree: string, signal?: AbortSignal): Promise<string> {
  return makeQuiet(tree, 'kernelrelease', signal);
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * The release a real kbuild tree that is not configured yet (no include/config/auto.conf, which
 * `make kernelrelease` needs and `make prepare` writes) will have: `make -s kernelversion` (the
 * Makefile's version and EXTRAVERSION, or its KERNELVERSION), then the localversion* files, then
 * CONFIG_LOCALVERSION of .config, as scripts/setlocalversion composes them (there is no .git, so no
 * scm suffix).
 */
export async function unconfiguredKernelRelease(tree: string, signal?: AbortSignal): Promise<string> {
  const version = await makeQuiet(tree, 'kernelversion', signal);
  const files = (await readdir(tree))
    .filter((name) => name.startsWith('localversion') && !name.endsWith('~'))
    .sort();
  let local = '';
  // As setlocalversion's $(cat FILE): trailing newlines dropped.
  for (const name of files) local += (await readFile(join(tree, name), 'utf8')).replace(/\n+$/, '');
  const config = await readFile(join(tree, '.config'), 'utf8').catch(() => '');
  const configLocal = /^CONFIG_LOCALVERSION="(.*)"$/m.exec(config)?.[1] ?? '';
  return `${version}${local}${configLocal}`;
}

/**
 * `make -s kernelrelease` must print `release`. A real kernel tree before `make prepare` cannot run it
 * (no include/config/auto.conf): its release is composed from the same parts instead.
 */
export async function checkKernelRelease(tree: string, release: string, signal?: AbortSignal): Promise<void> {
  const unconfigured =
    (await exists(join(tree, 'scripts/kconfig'))) && !(await exists(join(tree, 'include/config/auto.conf')));
  const printed = unconfigured
    ? await unconfiguredKernelRelease(tree, signal)
    : await makeKernelRelease(tree, signal);
  if (printed !== release) {
    const what = unconfigured
      ? `the release of ${tree} (make kernelversion, localversion*, CONFIG_LOCALVERSION) is`
      : `make kernelrelease in ${tree} prints`;
    throw new BuildError(`${what} "${printed}", not the target's "${release}"`, {
      hint: 'objects built from this tree would carry the wrong vermagic; the distro data (makefile rules) or the config (CONFIG_LOCALVERSION) does not fit this release',
    });
  }
}

/** "#define NAME VALUE" lines from the data's utsDefines. */
export function utsDefineLines(defines: Readonly<Record<string, string>>): string[] {
  return Object.entries(defines).map(([name, value]) => {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name) || !/^[0-9A-Za-z_"]+$/.test(value)) {
      throw new DistroError(`refusing utsrelease.h define ${name} ${value}`);
    }
    return `#define ${name} ${value}`;
  });
}

/**
 * Appends the distro's extra defines to include/generated/utsrelease.h (after `make prepare`; a later make
 * regenerates the file without them). Lines already there are not repeated.
 */
export async function appendUtsDefines(tree: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  const file = join(tree, 'include/generated/utsrelease.h');
  const text = await readFile(file, 'utf8').catch(() => {
    throw new BuildError(`${file} does not exist`, { hint: 'run make prepare in the tree first' });
  });
  const missing = lines.filter((line) => !text.split('\n').includes(line));
  if (missing.length > 0) await appendFile(file, `${text.endsWith('\n') ? '' : '\n'}${missing.join('\n')}\n`);
}
