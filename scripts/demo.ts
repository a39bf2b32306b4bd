// The README's main job: build examples/cmdline.patch into a livepatch for Debian bookworm's current
// kernel (its source, config and symbols fetched and prepared once, no kernel build), then prove it in
// a VM running that kernel, showing /proc/cmdline before, with and after the patch.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const repo = fileURLToPath(new URL('../', import.meta.url));
const out = await mkdtemp(join(tmpdir(), 'kpatch-demo-'));
const run = (bin: string, args: string[]) =>
  execa('node', [join(repo, 'bin', `${bin}.js`), ...args], { stdio: 'inherit', reject: false });

process.stdout.write('demo: kpatch-build --distro debian -a latest examples/cmdline.patch\n');
const build = await run('kpatch-build', [
  '--distro',
  'debian',
  '-a',
  'latest',
  '-o',
  out,
  join(repo, 'examples/cmdline.patch'),
]);
if (build.exitCode !== 0) {
  process.exitCode = build.exitCode ?? 1;
} else {
  process.stdout.write('demo: klp-verify on the same kernel in qemu\n');
  const verify = await run('klp-verify', [
    '--target',
    'debian:latest',
    '--module',
    join(out, 'livepatch-cmdline.ko'),
    '--check',
    'cat /proc/cmdline; grep -q " livepatch=1$" /proc/cmdline',
    '--unload',
  ]);
  process.exitCode = verify.exitCode ?? 1;
}
