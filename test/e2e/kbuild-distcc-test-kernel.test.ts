import { chmod, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareTarget } from '../../src/distro/prepare-target.js';
import type { TargetKernel } from '../../src/distro/target.js';
import { EXAMPLES, REPO } from './support/paths.js';
import { runBin } from './support/run-bin.js';

// Two objects, one in vmlinux and one in a module: compiled twice each, two at a time.
const PATCHES = [`${EXAMPLES}cmdline.patch`, `${REPO}test/fixtures/patches/module-late.patch`];

interface Distccd {
  port: number;
  log: string;
  process: ResultPromise;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => socket.end(() => resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** A distccd on 127.0.0.1 only, in the foreground (this test owns and stops it), logging each job. */
async function startDistccd(dir: string): Promise<Distccd> {
  const port = await freePort();
  const log = join(dir, `distccd-${port}.log`);
  const args = ['--daemon', '--no-detach', '--allow', '127.0.0.1', '--listen', '127.0.0.1'];
  const child = execa(
    'distccd',
    [...args, '--port', String(port), '--log-file', log, '--log-level', 'info'],
    {
      reject: false,
    },
  );
  for (let i = 0; i < 100 && !(await listening(port)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await listening(port))) throw new Error(`distccd on port ${port} did not start (see ${log})`);
  return { port, log, process: child };
}

/** The sources each server compiled, from its log's job summaries. */
async function servedSources(server: Distccd): Promise<string[]> {
  const text = await readFile(server.log, 'utf8').catch(() => '');
  return [...text.matchAll(/COMPILE_OK .* (\S+\.c)$/gm)].map((m) => m[1]!);
}

async function objectFiles(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.o')) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path), await readFile(path));
  }
  return files;
}

// Affected-object compiles over distcc with two distccd servers on loopback: the objects must be byte for
// byte the local compiler's, and the servers' logs must show they compiled them (a silent local fallback
// would fail this test).
describe('kpatch-build -s with DISTCC_HOSTS (two distccd on 127.0.0.1)', () => {
  let target: TargetKernel;
  let work: string;
  let servers: Distccd[] = [];
  const kept: string[] = [];

  beforeAll(async () => {
    target = await prepareTarget({ kind: 'test' });
    work = await mkdtemp(join(tmpdir(), 'e2e-distcc-'));
    await chmod(work, 0o777); // distccd started as root runs as the distccd user: it writes its log here
    servers = [await startDistccd(work), await startDistccd(work)];
  });

  afterAll(async () => {
    for (const server of servers) server.process.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.process));
    for (const dir of kept) await rm(dir, { recursive: true, force: true });
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function build(label: string, hosts: string) {
    const distccDir = join(work, `distcc-dir-${label}`); // distcc's locks and host state, not ~/.distcc
    await mkdir(distccDir);
    const result = await runBin(
      'kpatch-build',
      ['-s', target.sourceDir!, '-o', join(work, label), '-n', 'two', '-d', '--json', ...PATCHES],
      { DISTCC_HOSTS: hosts, DISTCC_DIR: distccDir },
    );
    const workDir = /work directory kept: (\S+)/.exec(result.stderr)?.[1];
    if (workDir) kept.push(workDir);
    expect(result.exitCode, result.stderr).toBe(0);
    return { result, workDir: workDir ?? '' };
  }

  it('compiles the affected objects on the servers, byte-identical to local compiles', async () => {
    const local = await build('local', '');
    expect(local.result.stderr).not.toContain('over distcc');
    expect(await Promise.all(servers.map(servedSources))).toEqual([[], []]);

    // One slot on the first server: the second compile at once goes to the second server. Four slots in
    // all, more than this machine's cores: that many compiles run at once.
    const [first, second] = servers.map((s) => `127.0.0.1:${s.port}`);
    const hosts = `${first}/1 ${second}/3`;
    const remote = await build('distcc', hosts);
    const lines = remote.result.stderr.split('\n');
    expect(lines).toContain('compiling the affected objects over distcc (4 job slots)');
    const compiles = lines.filter((l) => / -ffunction-sections -fdata-sections .*-c /.test(l));
    expect(compiles).toHaveLength(4);
    for (const line of compiles) expect(line).toMatch(/&& distcc gcc -Wp,-MMD,/);

    // Every compile (original and patched) was served, each server took some.
    const served = await Promise.all(servers.map(servedSources));
    for (const sources of served) expect(sources.length).toBeGreaterThan(0);
    expect(served.flat().sort()).toEqual([
      'fs/proc/cmdline.c',
      'fs/proc/cmdline.c',
      'samples/kobject/kobject-example.c',
      'samples/kobject/kobject-example.c',
    ]);
    const report = JSON.parse(remote.result.stdout) as { changes: Array<{ object: string }> };
    expect(report.changes.map((c) => c.object).sort()).toEqual([
      'fs/proc/cmdline.o',
      'samples/kobject/kobject-example.o',
    ]);

    // The same objects, byte for byte, and the same module.
    for (const side of ['orig', 'patched']) {
      const [a, b] = await Promise.all([
        objectFiles(join(local.workDir, side)),
        objectFiles(join(remote.workDir, side)),
      ]);
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      expect(a.size).toBe(compiles.length / 2);
      for (const [name, bytes] of a) expect(b.get(name)?.equals(bytes), `${side}/${name}`).toBe(true);
    }
    const [koA, koB] = await Promise.all(
      ['local', 'distcc'].map((label) => readFile(join(work, label, 'two.ko'))),
    );
    expect(koB!.equals(koA!)).toBe(true);
  });

  it('refuses DISTCC_HOSTS that distcc cannot read, naming distcc’s complaint', async () => {
    const result = await runBin('kpatch-build', ['-s', target.sourceDir!, '-o', work, ...PATCHES], {
      DISTCC_HOSTS: 'bad:host:x/y',
    });
    expect(result.stderr).toMatch(/distcc has no usable host list: .*invalid tcp port specification/);
    expect(result.stderr).toMatch(/hint: set DISTCC_HOSTS/);
    expect(result.exitCode).toBe(1);
  });
});
