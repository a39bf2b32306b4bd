// Compiles with cwd = the cached test kernel tree but writes only into a temp dir; checks the tree is untouched.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareTestKernel } from '../../src/distro/prepare-test-kernel.js';
import { readElfFile } from '../../src/elf/index.js';
import { compileObject } from '../../src/kbuild/compile-object.js';
import { cmdFilePathFor, parseKbuildCmdFile } from '../../src/kbuild/kbuild-cmd-file.js';
import type { KbuildObject } from '../../src/kbuild/kbuild-index.js';

let tree: string;
let work: string;
let object: KbuildObject;

async function fingerprint(path: string): Promise<string> {
  const s = await stat(path, { bigint: true });
  const hash = createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
  return `${hash} ${s.mtimeNs} ${s.size}`;
}

beforeAll(async () => {
  tree = (await prepareTestKernel()).sourceDir!;
  work = await mkdtemp(join(tmpdir(), 'kpatch-compile-'));
  const cmdFile = cmdFilePathFor('fs/proc/cmdline.o');
  const parsed = parseKbuildCmdFile(await readFile(join(tree, cmdFile), 'utf8'), tree)!;
  object = { target: parsed.target, source: parsed.source!, command: parsed.command, cmdFile };
}, 600_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('compileObject', () => {
  it('recompiles fs/proc/cmdline.o with per-function sections into the work dir only', async () => {
    const watched = ['fs/proc/cmdline.o', 'fs/proc/.cmdline.o.cmd', 'fs/proc/cmdline.c'];
    const before = await Promise.all(watched.map((p) => fingerprint(join(tree, p))));
    const listing = await readdir(join(tree, 'fs/proc'));
    const result = await compileObject({ tree, object, workDir: work });
    expect(result.output).toBe(join(work, 'fs/proc/cmdline.o'));
    const elf = await readElfFile(result.output);
    const names = elf.sections.map((s) => s.name);
    expect(names).toContain('.text.cmdline_proc_show');
    expect(await Promise.all(watched.map((p) => fingerprint(join(tree, p))))).toEqual(before);
    expect(await readdir(join(tree, 'fs/proc'))).toEqual(listing);
  });

  it('compiles a patched copy of the source from elsewhere (quote includes still found)', async () => {
    const copyRoot = join(work, 'patched');
    await mkdir(join(copyRoot, 'fs/proc'), { recursive: true });
    const original = await readFile(join(tree, 'fs/proc/cmdline.c'), 'utf8');
    const patched = original.replace(
      /seq_puts\(m, saved_command_line\);/,
      'seq_puts(m, saved_command_line);\n\tseq_puts(m, "");',
    );
    expect(patched).not.toBe(original);
    await writeFile(join(copyRoot, 'fs/proc/cmdline.c'), patched);
    const result = await compileObject({
      tree,
      object,
      workDir: join(work, 'out2'),
      sourceFile: join(copyRoot, 'fs/proc/cmdline.c'),
    });
    const elf = await readElfFile(result.output);
    expect(elf.sections.map((s) => s.name)).toContain('.text.cmdline_proc_show');
  });

  it('fails with a BuildError quoting the compiler and naming the log', async () => {
    const broken = join(work, 'broken.c');
    await writeFile(broken, 'int broken( {\n');
    const error = await compileObject({
      tree,
      object,
      workDir: join(work, 'out3'),
      sourceFile: broken,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'build',
      message: expect.stringMatching(/fs\/proc\/cmdline\.o failed: .*error/),
    });
    const logPath = (error as { logPath: string }).logPath;
    expect(await readFile(logPath, 'utf8')).toContain('-ffunction-sections');
  });
});
