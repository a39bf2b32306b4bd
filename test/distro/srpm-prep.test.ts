import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepFromSrpm } from '../../src/distro/srpm-prep.js';

// Untrusted %prep (kpatch-build -r takes the user's SRPM): real SRPMs built with rpmbuild -bs whose %prep
// tries to write outside its tree, or makes no kernel tree at all.
let work: string;
let outside: string;
const token = `srpm-prep-${process.pid}`;
const isRoot = process.getuid?.() === 0;

async function buildSrpm(name: string, prep: string, withMakefile: boolean): Promise<string> {
  const top = join(work, name);
  await mkdir(join(top, 'SOURCES'), { recursive: true });
  await mkdir(join(top, 'linux-1'));
  if (withMakefile) await writeFile(join(top, 'linux-1', 'Makefile'), 'all:\n');
  else await writeFile(join(top, 'linux-1', 'README'), 'no kernel here\n');
  await execa('tar', ['czf', join(top, 'SOURCES', 'linux-1.tar.gz'), '-C', top, 'linux-1']);
  const spec = join(top, 'kernel.spec');
  await writeFile(
    spec,
    `Name: kernel\nVersion: 1\nRelease: 1\nSummary: test\nLicense: GPL-2.0\nSource0: linux-1.tar.gz\n%description\ntest\n%prep\n%setup -q -n linux-1\n${prep}\n`,
  );
  await execa('rpmbuild', ['-bs', '-D', `_topdir ${top}`, '-D', `_sourcedir ${join(top, 'SOURCES')}`, spec]);
  return join(top, 'SRPMS', 'kernel-1-1.src.rpm');
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'srpm-prep-'));
  outside = await mkdtemp(join(tmpdir(), 'srpm-prep-outside-'));
});
afterAll(async () => {
  for (const dir of [work, outside, `/var/tmp/${token}`, `/dev/shm/${token}`]) {
    await rm(dir, { recursive: true, force: true });
  }
});

const prepOptions = (name: string) => ({
  spec: 'kernel.spec',
  defines: {},
  treeName: 'linux-1',
  arch: 'x86_64',
  logFile: join(work, `${name}.log`),
});

describe('prepFromSrpm: %prep is sandboxed', () => {
  it('can write its own tree only', async () => {
    const prep = [
      `echo escaped > ${outside}/escape || echo refused-outside >> result`,
      `echo escaped > /var/tmp/${token} || echo refused-var-tmp >> result`,
      `echo escaped > /dev/shm/${token} || echo refused-dev-shm >> result`,
      'id -u > uid',
      // No network: its own namespace has only a loopback (/proc/net is per network namespace).
      "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > interfaces",
    ].join('\n');
    const srpm = await buildSrpm('escape', prep, true);
    const tree = join(work, 'escape-tree');
    await prepFromSrpm(srpm, tree, prepOptions('escape'));
    expect((await stat(join(tree, 'Makefile'))).isFile()).toBe(true);
    // Nothing reached the host's scratch directories (private tmpfs inside), nor a root-only directory.
    expect(existsSync(`/var/tmp/${token}`)).toBe(false);
    expect(existsSync(`/dev/shm/${token}`)).toBe(false);
    expect((await readFile(join(tree, 'interfaces'), 'utf8')).trim()).toBe('lo');
    if (isRoot) {
      expect((await readFile(join(tree, 'uid'), 'utf8')).trim()).toBe('65534');
      expect(existsSync(join(outside, 'escape'))).toBe(false);
      expect(await readFile(join(tree, 'result'), 'utf8')).toContain('refused-outside');
      // The tree is handed back to the caller.
      expect((await stat(join(tree, 'uid'))).uid).toBe(0);
    }
  });

  it('refuses a %prep that makes no kernel tree, naming the SRPM', async () => {
    const srpm = await buildSrpm('no-makefile', 'true', false);
    await expect(
      prepFromSrpm(srpm, join(work, 'no-makefile-tree'), prepOptions('no-makefile')),
    ).rejects.toMatchObject({
      code: 'source',
      message: expect.stringMatching(
        /%prep of .*kernel-1-1\.src\.rpm made .*linux-1 without a Makefile: not a kernel source tree/,
      ),
      hint: expect.stringMatching(/kernel source RPM/),
    });
  });
});
