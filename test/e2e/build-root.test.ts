import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuildRoot } from '../../src/kbuild/build-root.js';
import { cacheRoot } from '../../src/source/cache-dir.js';

const TRIXIE_GCC = { suite: 'trixie', compilerPackage: 'gcc-14', compilerVersion: '14.2.0-19' };

describe('build roots (mmdebstrap, the real Debian registry)', () => {
  let emptyCache: string;
  beforeAll(async () => {
    emptyCache = await mkdtemp(join(tmpdir(), 'e2e-build-root-'));
  });
  afterAll(async () => {
    await rm(emptyCache, { recursive: true, force: true });
  });

  it('an interrupted creation leaves no half root, no temporary directory, no lock and no mount', async () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort('SIGINT'), 4000);
    const started = ensureBuildRoot(TRIXIE_GCC, { cacheDir: emptyCache, signal: controller.signal });
    await expect(started).rejects.toMatchObject({ code: 'interrupted' });
    clearTimeout(timer);
    expect(await readdir(join(emptyCache, 'build-roots'))).toEqual([]);
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(emptyCache);
  });

  it('two runs share one root: one creates it (or finds it), the other waits and reuses it', async () => {
    const [a, b] = await Promise.all([
      execa('node', ['--import', 'tsx', '-e', script()], { reject: false }),
      execa('node', ['--import', 'tsx', '-e', script()], { reject: false }),
    ]);
    expect([a.stderr, b.stderr]).toEqual(['', '']);
    const results = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    expect(results[0].root).toBe(join(cacheRoot(), 'build-roots', 'trixie-gcc-14-14.2.0-19', 'root'));
    expect(results[1].root).toBe(results[0].root);
    expect(results.filter((r) => !r.cached).length).toBeLessThanOrEqual(1);
    expect(results[0].compilerText).toBe('gcc-14 (Debian 14.2.0-19) 14.2.0');
    // The root really runs trixie's compiler.
    const { stdout } = await execa('chroot', [results[0].root, 'gcc-14', '--version']);
    expect(stdout).toContain('(Debian 14.2.0-19) 14.2.0');
  });
});

function script(): string {
  const module = new URL('../../src/kbuild/build-root.ts', import.meta.url).pathname;
  return `import(${JSON.stringify(module)}).then(async (m) => {
    const r = await m.ensureBuildRoot(${JSON.stringify(TRIXIE_GCC)});
    process.stdout.write(JSON.stringify({ root: r.root, cached: r.cached, compilerText: r.compilerText }));
  });`;
}
