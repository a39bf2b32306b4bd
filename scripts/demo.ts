// The README's main job: build examples/cmdline.patch into a livepatch for Debian stable's (trixie's)
// current kernel from this bookworm machine (its source, config and symbols fetched and prepared once, no
// kernel build; compiled by the kernel's own gcc-14 in a cached trixie build root) and prove it with
// --verify in a VM running that kernel, showing /proc/cmdline before, with and after the patch.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const repo = fileURLToPath(new URL('../', import.meta.url));
const out = await mkdtemp(join(tmpdir(), 'kpatch-demo-'));
const check = 'cat /proc/cmdline; grep -q " livepatch=1$" /proc/cmdline';
const args = [
  '--distro',
  'debian',
  '--suite',
  'trixie',
  '-a',
  'latest',
  '-o',
  out,
  '--verify',
  '--check',
  check,
];

process.stdout.write(`demo: kpatch-build ${args.slice(0, -1).join(' ')} '${check}' examples/cmdline.patch\n`);
const build = await execa(
  'node',
  [join(repo, 'bin/kpatch-build.js'), ...args, join(repo, 'examples/cmdline.patch')],
  {
    stdio: 'inherit',
    reject: false,
  },
);
process.exitCode = build.exitCode ?? 1;
