import { createHash } from 'node:crypto';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { type KpatchError, PatchError, SourceError } from '../../src/errors.js';
import { patchedFiles } from '../../src/source/apply-patch.js';
import { changelogVersion, parseSeries, unpackDsc } from '../../src/source/unpack-dsc.js';
import { tempDir } from './helpers.js';

const CHANGELOG =
  'linux (5.15.0-91.101) jammy; urgency=medium\n\n  * t\n\n -- T <t@example.com>  Mon, 01 Jan 2024 00:00:00 +0000\n';

function diffOf(files: Record<string, string>): string {
  return Object.entries(files)
    .map(([name, text]) => {
      const lines = text.split('\n').filter(Boolean);
      return [
        `--- linux-5.15.0.orig/${name}`,
        `+++ linux-5.15.0/${name}`,
        `@@ -0,0 +1,${lines.length} @@`,
        ...lines.map((l) => `+${l}`),
      ].join('\n');
    })
    .join('\n')
    .concat('\n');
}

/** A format 1.0 source package written by hand (orig.tar.gz + diff.gz + .dsc), so tests can forge its parts. */
async function sourcePackage(options: { diff: string; withSymlink?: boolean; version?: string }) {
  const dir = await tempDir();
  const tree = join(dir, 'linux-5.15.0');
  await mkdir(join(tree, 'fs'), { recursive: true });
  await writeFile(join(tree, 'fs/a.c'), 'int a;\n');
  if (options.withSymlink) await symlink('/tmp', join(tree, 'outside'));
  await execa('tar', ['czf', 'linux_5.15.0.orig.tar.gz', 'linux-5.15.0'], { cwd: dir });
  const version = options.version ?? '5.15.0-91.101';
  await writeFile(join(dir, `linux_${version}.diff.gz`), gzipSync(options.diff));
  const line = async (name: string) => {
    const data = await readFile(join(dir, name));
    return ` ${createHash('sha256').update(data).digest('hex')} ${data.length} ${name}`;
  };
  const dsc = join(dir, `linux_${version}.dsc`);
  await writeFile(
    dsc,
    `Format: 1.0\nSource: linux\nVersion: ${version}\nChecksums-Sha256:\n${await line('linux_5.15.0.orig.tar.gz')}\n${await line(`linux_${version}.diff.gz`)}\n`,
  );
  return { dir, dsc, dest: join(dir, 'out') };
}

describe('unpackDsc (dpkg-source -x without dpkg)', () => {
  it('unpacks orig + diff and checks debian/changelog against the .dsc', async () => {
    const { dsc, dest } = await sourcePackage({
      diff: diffOf({ 'debian/changelog': CHANGELOG, 'fs/b.c': 'int b;\n' }),
    });
    const result = await unpackDsc(dsc, dest);
    expect(result.dsc.version).toBe('5.15.0-91.101');
    expect(result.patches).toEqual(['linux_5.15.0-91.101.diff.gz']);
    expect(await readFile(join(dest, 'fs/a.c'), 'utf8')).toBe('int a;\n');
    expect(await readFile(join(dest, 'fs/b.c'), 'utf8')).toBe('int b;\n');
  });

  it('refuses a changelog that names another version', async () => {
    const { dsc, dest } = await sourcePackage({
      diff: diffOf({ 'debian/changelog': CHANGELOG.replace('91.101', '90.100') }),
    });
    await expect(unpackDsc(dsc, dest)).rejects.toThrow(
      /debian\/changelog says linux 5\.15\.0-90\.100, the \.dsc says linux 5\.15\.0-91\.101/,
    );
  });

  it('refuses a part whose SHA256 differs from the .dsc, naming it', async () => {
    const { dir, dsc, dest } = await sourcePackage({ diff: diffOf({ 'debian/changelog': CHANGELOG }) });
    const orig = join(dir, 'linux_5.15.0.orig.tar.gz');
    const data = await readFile(orig);
    data[40] = (data[40] ?? 0) ^ 1;
    await writeFile(orig, data);
    const error = await unpackDsc(dsc, dest).catch((e: unknown) => e);
    expect((error as KpatchError).code).toBe('checksum');
    expect((error as Error).message).toContain(orig);
  });

  it.each([
    {
      name: '".." in a file name',
      diff: '--- a/../../evil\n+++ b/../../evil\n@@ -0,0 +1 @@\n+x\n',
      why: /"a\/\.\.\/\.\.\/evil": "\.\." would escape/,
    },
    {
      name: 'an absolute file name',
      diff: '--- /etc/passwd\n+++ /etc/passwd\n@@ -0,0 +1 @@\n+x\n',
      why: /"\/etc\/passwd": absolute path/,
    },
    {
      name: 'a file under a symlink of the tree',
      diff: diffOf({ 'outside/evil': 'x\n' }),
      withSymlink: true,
      why: /"outside\/evil": "outside" is a symlink/,
    },
    {
      name: 'a git symlink',
      diff: 'diff --git a/l b/l\nnew file mode 120000\n--- /dev/null\n+++ b/l\n@@ -0,0 +1 @@\n+/etc\n',
      why: /symlink/,
    },
  ])('refuses a diff with $name, and leaves no tree', async ({ diff, why, withSymlink }) => {
    const { dsc, dest } = await sourcePackage({ diff, withSymlink });
    const error = await unpackDsc(dsc, dest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(/refusing to apply a patch to/);
    expect((error as Error).message).toMatch(why);
    await expect(readFile(join(dest, 'fs/a.c'))).rejects.toThrow(/ENOENT/);
  });

  it('reports a diff that does not apply as a PatchError', async () => {
    const diff = '--- a/fs/a.c\n+++ b/fs/a.c\n@@ -1 +1 @@\n-int zzz;\n+int b;\n';
    const { dsc, dest } = await sourcePackage({ diff });
    await expect(unpackDsc(dsc, dest)).rejects.toBeInstanceOf(PatchError);
  });
});

describe('patch vetting and quilt series', () => {
  it('does not mistake a removed "-- " line inside a hunk for a file header', () => {
    const diff = '--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,1 @@\n--- /etc/shadow\n keep\n';
    expect(patchedFiles(diff, 1, 'p')).toEqual(['x.c']);
  });

  it.each([
    [
      'a.patch\n# comment\nb.patch -p0\n',
      [
        { name: 'a.patch', strip: 1 },
        { name: 'b.patch', strip: 0 },
      ],
    ],
    ['\n  \n', []],
  ])('parses series %j', (text, entries) => {
    expect(parseSeries(text, 'series')).toEqual(entries);
  });

  it.each(['../../x.patch', '/abs.patch', 'a.patch -pX'])('refuses series entry %j', (line) => {
    expect(() => parseSeries(line, 'series')).toThrow(/bad series entry/);
  });

  it('reads the first changelog line', () => {
    expect(changelogVersion(CHANGELOG)).toEqual({ source: 'linux', version: '5.15.0-91.101' });
    expect(changelogVersion('garbage')).toBeUndefined();
  });
});
