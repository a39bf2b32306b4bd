/**
 * Extraction speed of src/source against the alternatives, on a real .deb or source tarball:
 *   npx tsx bench/source-unpack.ts FILE [--no-node-tar] [--runs=N]
 * - ours:      system decompressor → TarGuard (vetting) → GNU tar        (what extractDeb/unpackTarball do)
 * - node-tar:  system decompressor → TarGuard → node-tar's extractor      (the alternative)
 * - reference: `dpkg-deb -x` for a .deb, `tar -xaf` for a tarball         (no vetting, no staging)
 * Each variant extracts into a fresh directory beside the file's temp copy; times are wall-clock.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { execa } from 'execa';
import * as tar from 'tar';
import { extractDeb, listDebMembers } from '../src/source/deb.js';
import { type Compression, compressionOfName, sniffCompression } from '../src/source/extract-tar.js';
import { TarGuard } from '../src/source/safe-extract.js';
import { unpackTarball } from '../src/source/unpack-tarball.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: npx tsx bench/source-unpack.ts FILE.deb|FILE.tar.* [--no-node-tar]');
  process.exit(64);
}
const isDeb = file.endsWith('.deb');
const work = await mkdtemp(join(tmpdir(), 'kpb-bench-'));

/** The byte range and compression of the tar stream inside FILE. */
async function tarSource(): Promise<{ start: number; end: number | undefined; compression: Compression }> {
  if (!isDeb) {
    const head = Buffer.alloc(8);
    const { open } = await import('node:fs/promises');
    const handle = await open(file!, 'r');
    await handle.read(head, 0, 8, 0);
    await handle.close();
    const sniffed = sniffCompression(head);
    return {
      start: 0,
      end: undefined,
      compression: sniffed === 'none' ? (compressionOfName(file!) ?? 'none') : sniffed,
    };
  }
  const data = (await listDebMembers(file!)).find((m) => m.name.startsWith('data.tar'))!;
  return { start: data.offset, end: data.offset + data.size - 1, compression: compressionOfName(data.name)! };
}

async function viaNodeTar(dest: string): Promise<void> {
  const { start, end, compression } = await tarSource();
  await mkdir(dest);
  const source = createReadStream(file!, { start, end, highWaterMark: 1 << 20 });
  const guard = new TarGuard({ where: file! });
  const sink = tar.x({ cwd: dest, preserveOwner: false, strict: true });
  if (compression === 'gzip' || compression === 'none') {
    await pipeline([source, ...(compression === 'gzip' ? [createGunzip()] : []), guard, sink]);
    return;
  }
  const tool = {
    xz: ['xz', '-dc', '-T0'],
    zstd: ['zstd', '-dcq'],
    bzip2: ['bzip2', '-dc'],
    lzma: ['xz', '-dc'],
  }[compression];
  const child = spawn(tool[0]!, tool.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  await Promise.all([pipeline(source, child.stdin), pipeline([child.stdout, guard, sink])]);
}

async function reference(dest: string): Promise<void> {
  await mkdir(dest);
  if (isDeb) await execa('dpkg-deb', ['-x', file!, dest]);
  else await execa('tar', ['-xaf', file!, '-C', dest, '--no-same-owner']);
}

const variants: [string, (dest: string) => Promise<unknown>][] = [
  ['ours (GNU tar + guard)', (dest) => (isDeb ? extractDeb(file, dest) : unpackTarball(file, dest))],
  ['reference (' + (isDeb ? 'dpkg-deb -x' : 'tar -xaf') + ')', reference],
];
if (!process.argv.includes('--no-node-tar')) variants.push(['node-tar + guard', viaNodeTar]);

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 3);
try {
  const { size } = await import('node:fs/promises').then((fs) => fs.stat(file));
  const { compression } = await tarSource();
  console.log(
    `${file}: ${(size / 1e6).toFixed(1)} MB, tar stream compressed with ${compression}; best and median of ${runs} runs`,
  );
  for (const [name, run] of variants) {
    const dest = join(work, name.replace(/\W+/g, '-'));
    const times: number[] = [];
    let summary = '';
    try {
      for (let i = 0; i < runs; i++) {
        await execa('sync'); // start each run without the previous run's writeback pending
        const started = performance.now();
        await run(dest);
        times.push((performance.now() - started) / 1000);
        if (i === 0) {
          const { stdout } = await execa('sh', ['-c', `find "${dest}" | wc -l; du -sm "${dest}" | cut -f1`]);
          const [entries, mb] = stdout.split('\n');
          summary = `${entries} entries, ${mb} MB`;
        }
        await rm(dest, { recursive: true, force: true });
      }
    } catch (error) {
      console.log(`${name.padEnd(30)} failed: ${(error as Error).message.split('\n')[0]}`);
      await rm(dest, { recursive: true, force: true });
      continue;
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)] ?? 0;
    console.log(
      `${name.padEnd(30)} best ${times[0]?.toFixed(2)} s  median ${median.toFixed(2)} s   ${summary}`,
    );
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
