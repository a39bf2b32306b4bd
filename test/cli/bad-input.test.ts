import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getuid } from 'node:process';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES, REPO } from '../e2e/support/paths.js';
import { runBin } from '../e2e/support/run-bin.js';

// Every command, run as a user runs it, with input a user gets wrong: each must end early with the
// documented exit code, one message naming the file or option, a hint, and no stack trace.
const PATCHES = `${REPO}test/fixtures/patches/`;
let dir: string;
let tree: string;
let readOnly: string;
let plainFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bad-input-'));
  tree = join(dir, 'tree');
  readOnly = join(dir, 'read-only');
  plainFile = join(dir, 'plain-file');
  await mkdir(tree);
  await mkdir(readOnly, { mode: 0o555 });
  await writeFile(plainFile, 'not a directory\n');
  await writeFile(join(dir, 'not-a.patch'), 'this is prose, not a diff\n');
});

/**
 * Runs `args` with `dir`'s read-only directory really read-only: as root (whom mode bits do not stop) in
 * a private mount namespace where it is bind-mounted read-only; otherwise its mode 0555 suffices.
 */
async function run(command: string, args: string[]) {
  if (getuid?.() !== 0) return runBin(command, args);
  const script = `mount --bind -o ro "$0" "$0" && exec node "$@"`;
  const result = await execa(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      readOnly,
      `${REPO}bin/${command}.js`,
      ...args,
    ],
    { reject: false, cwd: REPO, env: { CI: 'true' } },
  );
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const cmdline = `${EXAMPLES}cmdline.patch`;

// [case, command, args (D = the temp dir, T = an empty tree, RO = read-only dir, F = a plain file), exit, message]
const CASES: Array<[string, string, string[], number, RegExp]> = [
  [
    'missing patch file',
    'kpatch-build',
    ['-s', 'T', '-o', 'D', 'D/nope.patch'],
    64,
    /patch D\/nope\.patch: no such file/,
  ],
  [
    'a patch that is no diff',
    'kpatch-build',
    ['-s', 'T', '-o', 'D', 'D/not-a.patch'],
    65,
    /D\/not-a\.patch: contains no file changes/,
  ],
  [
    '-o naming a regular file',
    'kpatch-build',
    ['-s', 'T', '-o', 'F', cmdline],
    64,
    /-o\/--output F: is a file, not a directory/,
  ],
  [
    '-o below a regular file',
    'kpatch-build',
    ['-s', 'T', '-o', 'F/out', cmdline],
    64,
    /-o\/--output F \(in F\/out\): is a file/,
  ],
  [
    '-o read-only directory',
    'kpatch-build',
    ['-s', 'T', '-o', 'RO', cmdline],
    64,
    /-o\/--output RO: cannot write in RO: (read-only file system|permission denied)/,
  ],
  [
    '-n with a slash',
    'kpatch-build',
    ['-s', 'T', '-o', 'D', '-n', 'foo/bar', cmdline],
    64,
    /-n\/--name "foo\/bar": a module name holds only/,
  ],
  [
    '-n over 55 characters',
    'kpatch-build',
    ['-s', 'T', '-o', 'D', '-n', 'x'.repeat(56), cmdline],
    64,
    /has 56 characters; the kernel allows at most 55/,
  ],
  [
    '-s missing',
    'kpatch-build',
    ['-s', 'D/no-tree', '-o', 'D', cmdline],
    64,
    /-s\/--sourcedir D\/no-tree: no such file/,
  ],
  ['-s a file', 'kpatch-build', ['-s', 'F', '-o', 'D', cmdline], 64, /-s\/--sourcedir F: not a directory/],
  [
    '-c missing',
    'kpatch-build',
    ['-s', 'T', '-c', 'D/no.config', cmdline],
    64,
    /-c\/--config D\/no\.config: no such file/,
  ],
  [
    '--oot-module missing',
    'kpatch-build',
    ['-s', 'T', '--oot-module', 'D/m.ko', '--oot-module-src', 'T', cmdline],
    64,
    /--oot-module D\/m\.ko: no such file/,
  ],
  [
    '-r missing',
    'kpatch-build',
    ['--distro', 'fedora', '-r', 'D/k.src.rpm', cmdline],
    64,
    /-r\/--sourcerpm D\/k\.src\.rpm: no such file/,
  ],
  [
    'a documentation-only patch',
    'kpatch-build',
    ['-s', 'T', '-o', 'D', `${PATCHES}documentation-only.patch`],
    3,
    /changes no file that objects are compiled from \(Documentation\/livepatch\/livepatch\.rst\): no functional change/,
  ],
  [
    'a git rename',
    'kpatch-build',
    ['-s', 'T', '-o', 'D', `${PATCHES}rename-file.patch`],
    2,
    /renames fs\/proc\/cmdline\.c to fs\/proc\/cmdline-show\.c/,
  ],
  [
    '--clean-cache with a path for -a',
    'kpatch-build',
    ['--clean-cache', '--distro', 'debian', '-a', '../x'],
    64,
    /--clean-cache -a "\.\.\/x": not a kernel release name/,
  ],
  ['an unknown option', 'kpatch-build', ['--frobnicate', cmdline], 64, /--frobnicate/],
  [
    // Checked against qemu's own list before the (long) build, not found when the VM fails to start.
    '--cpu naming a model qemu lacks',
    'kpatch-build',
    ['-s', 'T', '-o', 'D', '--verify', '--cpu', 'Skylake-Clinet', cmdline],
    64,
    /--cpu "Skylake-Clinet": qemu-system-x86_64 has no CPU model "Skylake-Clinet"/,
  ],
  [
    '--cpu with --accel kvm',
    'klp-verify',
    ['--kernel', 'F', '--module', 'F', '--check', 'true', '--accel', 'kvm', '--cpu', 'max'],
    64,
    /--cpu is for --accel tcg/,
  ],
  [
    '--cpu naming a model qemu lacks',
    'klp-verify',
    ['--kernel', 'F', '--module', 'F', '--check', 'true', '--cpu', 'Nosuch-CPU'],
    64,
    /--cpu "Nosuch-CPU": qemu-system-x86_64 has no CPU model "Nosuch-CPU"/,
  ],
  [
    'missing ORIG.o',
    'create-diff-object',
    ['D/orig.o', 'F', '-o', 'D/out.o'],
    64,
    /ORIG\.o D\/orig\.o: no such file/,
  ],
  [
    'missing --symbols',
    'create-diff-object',
    ['F', 'F', '-o', 'D/out.o', '--symbols', 'D/vmlinux'],
    64,
    /--symbols D\/vmlinux: no such file/,
  ],
  [
    '-o unwritable',
    'create-diff-object',
    ['F', 'F', '-o', 'RO/out.o'],
    64,
    /-o\/--output RO\/out\.o: cannot write in RO/,
  ],
  ['-o a directory', 'create-diff-object', ['F', 'F', '-o', 'D'], 64, /-o\/--output D: is a directory/],
  [
    'missing IN.ko',
    'klp-convert',
    ['--vmlinux', 'F', 'D/in.ko', 'D/out.ko'],
    64,
    /IN\.ko D\/in\.ko: no such file/,
  ],
  [
    'missing --vmlinux',
    'klp-convert',
    ['--vmlinux', 'D/vmlinux', 'F', 'D/out.ko'],
    64,
    /--vmlinux D\/vmlinux: no such file/,
  ],
  [
    'OUT.ko unwritable',
    'klp-convert',
    ['--vmlinux', 'F', 'F', 'RO/out.ko'],
    64,
    /OUT\.ko RO\/out\.ko: cannot write in RO/,
  ],
  [
    'missing --module',
    'klp-verify',
    ['--kernel', 'F', '--module', 'D/lp.ko', '--check', 'true'],
    64,
    /--module D\/lp\.ko: no such file/,
  ],
  [
    'missing --kernel',
    'klp-verify',
    ['--kernel', 'D/bzImage', '--module', 'F', '--check', 'true'],
    64,
    /--kernel D\/bzImage: no such file/,
  ],
];

function expand(text: string): string {
  return text
    .replaceAll(/\bRO\b/g, readOnly)
    .replaceAll(/\bD\b/g, dir)
    .replaceAll(/^T$/g, tree)
    .replaceAll(/\bF\b/g, plainFile);
}

function expandPattern(pattern: RegExp): RegExp {
  const quote = (s: string) => s.replaceAll(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const source = pattern.source
    .replaceAll(/\bRO\b/g, quote(readOnly))
    .replaceAll(/\bD\b/g, quote(dir))
    .replaceAll(/\bF\b/g, quote(plainFile));
  return new RegExp(source);
}

describe('bad input, every command', () => {
  it.concurrent.each(CASES)('%s (%s)', async (_case, command, args, exit, message) => {
    const result = await run(command, args.map(expand));
    expect(result.stderr).toMatch(expandPattern(message));
    expect(result.stderr).toMatch(new RegExp(`^${command}: hint: \\S`, 'm'));
    expect(result.stderr).not.toMatch(/internal error|^\s+at /m);
    expect(result.exitCode).toBe(exit);
    // Refused before any work: nothing was written next to the inputs (the probe leaves nothing).
    expect((await readdir(dir)).sort()).toEqual(['not-a.patch', 'plain-file', 'read-only', 'tree']);
  });
});
