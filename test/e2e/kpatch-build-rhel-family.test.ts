import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES, REPO } from './support/paths.js';
import { type RpmKernelMirror, serveRpmKernel } from './support/rpm-kernel-mirror.js';
import { runBin } from './support/run-bin.js';

const RELEASE = '6.1.192-362.el9.x86_64';

// The RHEL family (CentOS Stream, AlmaLinux, Rocky Linux, Oracle Linux) shares Fedora's code and differs
// in data: repositories with repodata instead of koji's URLs. Proven here on CentOS Stream's layout with
// a real kernel (the test kernel built as 6.1.192-362.el9.x86_64) packaged as the family packages it.
describe('kpatch-build --distro centos -a RELEASE (a real kernel in CentOS Stream repositories)', () => {
  let mirror: RpmKernelMirror | undefined;

  beforeAll(async () => {
    mirror = await serveRpmKernel({ id: 'centos', version: '6.1.192', relBase: '362', dist: '.el9' });
  });

  afterAll(() => mirror?.close());

  it('builds a vmlinux change and a module change from the repositories and proves both in a VM', async () => {
    if (!mirror) throw new Error('no mirror');
    const cacheDir = join(mirror.work, 'cache');
    const out = join(mirror.work, 'out');
    const result = await runBin(
      'kpatch-build',
      [
        '--distro',
        'centos',
        '-a',
        RELEASE,
        '-o',
        out,
        '-n',
        'el9-fix',
        '--verify',
        '--check',
        'grep -q " livepatch=1$" /proc/cmdline',
        '--check',
        'grep -q "^0 livepatched$" /sys/kernel/kobject_example/foo',
        `${EXAMPLES}cmdline.patch`,
        `${REPO}test/fixtures/patches/module-late.patch`,
      ],
      { KPATCH_MIRROR_CENTOS: mirror.server.url, CACHEDIR: cacheDir },
    );
    const lines = result.stderr.split('\n');
    expect(lines).toContain(`CentOS Stream kernel ${RELEASE}: preparing its source (cached)`);
    expect(lines).toContain('fs/proc/cmdline.o: changed function: cmdline_proc_show');
    expect(lines).toContain('samples/kobject/kobject-example.o: changed function: foo_show');
    expect(lines).toContain('Patched objects: vmlinux kobject_example');
    expect(lines).toContain('verify: PASS load kobject-example.ko after the patch: ok');
    expect(lines).toContain('verify: PASS check #1 passes with the livepatch: ok');
    expect(lines).toContain('verify: PASS check #2 passes with the livepatch: ok');
    expect(result.stderr).toMatch(/^verify: SUCCESS /m);
    expect(result.exitCode, result.stderr).toBe(0);

    // Every package came from a repository and was checked against its repodata; the family's optional
    // kernel-modules-core / -extra are in none of them here, so they were skipped, not fetched.
    const stamp = JSON.parse(
      await readFile(join(cacheDir, 'targets/centos', RELEASE, 'source.json'), 'utf8'),
    ) as { verified: Record<string, string> };
    expect(Object.keys(stamp.verified).sort()).toEqual([
      `kernel-${RELEASE.replace('.x86_64', '')}.src.rpm`,
      `kernel-core-${RELEASE}.rpm`,
      `kernel-devel-${RELEASE}.rpm`,
      `kernel-modules-${RELEASE}.rpm`,
    ]);
    for (const how of Object.values(stamp.verified))
      expect(how).toMatch(/^sha256 \w+ and size from repodata; rpm /);
    const fetched = mirror.server.requests.filter((r) => r.path.endsWith('.rpm')).map((r) => r.path);
    expect(fetched.some((p) => p.includes('kernel-modules-core'))).toBe(false);
  });
});
