import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildError } from '../../src/errors.js';
import { buildPreparedTree, isFullyBuilt } from '../../src/pipeline/full-build-prepared.js';

// A tree whose make counts its builds and, like modpost, writes its own Module.symvers.
const MAKEFILE = [
  'all:',
  '\techo built >> builds',
  '\techo "0x0 own_crc vmlinux EXPORT_SYMBOL" > Module.symvers',
  'vmlinux:',
  '\techo vmlinux >> builds',
  'broken:',
  '\tfalse',
  '',
].join('\n');

let dir: string;
let tree: string;
let target: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpb-full-build-'));
  tree = join(dir, 'tree');
  await mkdir(tree);
  await writeFile(join(tree, 'Makefile'), MAKEFILE);
  await writeFile(join(tree, '.config'), 'CONFIG_A=y\n');
  target = join(dir, 'target.symvers');
  await writeFile(target, '0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const builds = () => readFile(join(tree, 'builds'), 'utf8').catch(() => '');

describe('buildPreparedTree', () => {
  it('builds once, puts the target Module.symvers back, and is stamped for this .config', async () => {
    expect(await isFullyBuilt(tree)).toBe(false);
    expect(await buildPreparedTree(tree, { moduleSymvers: target, jobs: 1 })).toBe(true);
    expect(await builds()).toBe('built\n');
    expect(await readFile(join(tree, 'Module.symvers'), 'utf8')).toBe(await readFile(target, 'utf8'));
    expect(await isFullyBuilt(tree)).toBe(true);
    expect(await buildPreparedTree(tree, { moduleSymvers: target })).toBe(false);
    expect(await builds()).toBe('built\n');
  });

  it('builds again when .config changed, with the -t targets given', async () => {
    await writeFile(join(tree, '.config'), 'CONFIG_A=y\nCONFIG_B=y\n');
    expect(await isFullyBuilt(tree)).toBe(false);
    expect(await buildPreparedTree(tree, { targets: ['vmlinux'], jobs: 1 })).toBe(true);
    expect(await builds()).toBe('built\nvmlinux\n');
    expect(await isFullyBuilt(tree)).toBe(true);
  });

  it('leaves no stamp when make fails, so the next run builds again', async () => {
    await writeFile(join(tree, '.config'), 'CONFIG_C=y\n');
    await expect(buildPreparedTree(tree, { targets: ['broken'], jobs: 1 })).rejects.toThrow(BuildError);
    expect(await isFullyBuilt(tree)).toBe(false);
  });
});
