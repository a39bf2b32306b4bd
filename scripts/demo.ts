// The README's main job for now: fetch Debian bookworm's current kernel, build the example livepatch
// against its headers, and prove it in a VM with klp-verify.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { prepareTarget } from '../src/distro/prepare-target.js';
import { buildExternalModule } from '../src/kbuild/build-external-module.js';

const repo = fileURLToPath(new URL('../', import.meta.url));
const say = (message: string) => process.stdout.write(`demo: ${message}\n`);

say("preparing Debian bookworm's current kernel (downloads once, then cached)");
const target = await prepareTarget(
  { kind: 'debian', release: 'latest' },
  { onProgress: (message) => say(message) },
);
say(`target ${target.id}, package ${target.packageVersion}`);
const work = await mkdtemp(join(tmpdir(), 'kpatch-demo-'));
const [ko] = await buildExternalModule({
  sourceDir: join(repo, 'examples/livepatch-sample'),
  workDir: work,
  target,
});
say(`built ${ko}`);
const result = await execa(
  'node',
  [
    join(repo, 'bin/klp-verify.js'),
    '--target',
    `debian:${target.release}`,
    '--module',
    ko ?? '',
    '--check',
    'cat /proc/cmdline; grep -q "served by a livepatch" /proc/cmdline',
    '--unload',
  ],
  { stdio: 'inherit', reject: false },
);
process.exitCode = result.exitCode ?? 1;
