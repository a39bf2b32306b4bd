/**
 * The extraction pipeline shared by deb.ts and unpack-tarball.ts:
 *   source bytes → decompressor → TarGuard (vets and filters) → GNU tar -x
 * Decompression runs in the system tools (xz/zstd/bzip2 in their own processes, so they use another
 * core and are faster than in-process alternatives); gzip uses node's zlib, which is as fast as gzip(1).
 * GNU tar writes files ~8x faster than node-tar on trees of many small files (bench/source-unpack.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type Duplex, Duplex as DuplexStream, type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { InterruptedError, KpatchError, SourceError } from '../errors.js';
import { abortError } from './abort.js';
import { TarGuard, type TarGuardOptions, TruncatedArchiveError } from './safe-extract.js';

export type Compression = 'xz' | 'lzma' | 'zstd' | 'gzip' | 'bzip2' | 'none';

/** From a file name such as "data.tar.xz", "linux-source-6.1.tar.xz" or "x.tgz"; undefined if unknown. */
export function compressionOfName(name: string): Compression | undefined {
  const match = /\.(?:tar\.(xz|lzma|zst|gz|bz2)|(txz|tzst|tgz|tbz2?)|(tar))$/.exec(name);
  if (!match) return undefined;
  const ext = match[1] ?? match[2] ?? 'tar';
  const table: Record<string, Compression> = {
    xz: 'xz',
    txz: 'xz',
    lzma: 'lzma',
    zst: 'zstd',
    tzst: 'zstd',
    gz: 'gzip',
    tgz: 'gzip',
    bz2: 'bzip2',
    tbz: 'bzip2',
    tbz2: 'bzip2',
    tar: 'none',
  };
  return table[ext];
}

/** From the first bytes of the data; falls back to 'none' (plain tar). */
export function sniffCompression(head: Uint8Array): Compression {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (starts(0x1f, 0x8b)) return 'gzip';
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  if (starts(0x5d, 0x00, 0x00)) return 'lzma';
  return 'none';
}

const TOOLS: Record<Exclude<Compression, 'gzip' | 'none'>, { cmd: string; args: string[]; pkg: string }> = {
  // -T0: xz ≥ 5.4 decompresses multi-block files (as dpkg-deb writes them) in parallel.
  xz: { cmd: 'xz', args: ['-dc', '-T0'], pkg: 'xz-utils' },
  lzma: { cmd: 'xz', args: ['--format=lzma', '-dc'], pkg: 'xz-utils' },
  zstd: { cmd: 'zstd', args: ['-dcq'], pkg: 'zstd' },
  bzip2: { cmd: 'bzip2', args: ['-dc'], pkg: 'bzip2' },
};

/** Decompresses a small in-memory blob (a .deb's control.tar.*), refusing more than `limit` bytes of output. */
export async function decompressBuffer(
  data: Uint8Array,
  compression: Compression,
  where: string,
  limit = 64 << 20,
): Promise<Buffer> {
  try {
    if (compression === 'none') return Buffer.from(data);
    if (compression === 'gzip') return gunzipSync(data, { maxOutputLength: limit });
    const tool = TOOLS[compression];
    const { stdout } = await execa(tool.cmd, tool.args, {
      input: data,
      encoding: 'buffer',
      maxBuffer: limit,
    });
    return Buffer.from(stdout);
  } catch (error) {
    throw new SourceError(
      `${where}: cannot decompress (${compression}): ${(error as Error).message.split('\n')[0]}`,
      {
        hint: 'the file is corrupt or truncated; delete it so it is fetched again',
        cause: error,
      },
    );
  }
}

/** A child process used as a stream stage; `done` settles when it has exited. */
interface ChildStage {
  child: ChildProcess;
  done: Promise<void>;
  /** True once we killed it on purpose: its exit status then means nothing. */
  killed: boolean;
}

function startChild(
  cmd: string,
  args: string[],
  where: string,
  pkg: string,
  stdout: 'pipe' | 'ignore',
): ChildStage {
  const child = spawn(cmd, args, { stdio: ['pipe', stdout, 'pipe'] });
  const stage: ChildStage = { child, killed: false, done: Promise.resolve() };
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  stage.done = new Promise<void>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(
          new SourceError(`${where}: "${cmd}" is not installed`, {
            hint: `install it: apt-get install ${pkg}`,
          }),
        );
      } else {
        reject(
          new SourceError(`${where}: cannot run ${cmd}: ${error.message}`, {
            hint: 'check that the system has free memory and process slots',
            cause: error,
          }),
        );
      }
    });
    child.once('close', (code, signal) => {
      if (code === 0 || stage.killed) resolve();
      else {
        const why = stderr.trim() || (signal ? `killed by ${signal}` : `exit status ${code}`);
        reject(new ChildFailed(`${where}: ${cmd} failed: ${why}`, cmd, /Broken pipe|SIGPIPE/.test(why)));
      }
    });
  });
  return stage;
}

class ChildFailed extends SourceError {
  constructor(
    message: string,
    readonly command: string,
    readonly brokenPipe: boolean,
  ) {
    super(message, { hint: 'the archive may be corrupt: delete it so it is fetched again' });
  }
}

export interface ExtractTarOptions extends TarGuardOptions {
  compression: Compression;
  signal?: AbortSignal;
  /** A stage between the decompressor and the guard that turns another archive format into tar (cpio). */
  convert?: () => Duplex;
}

export interface ExtractSummary {
  /** Members written. */
  written: number;
  /** Members dropped by the filter (or by strip). */
  skipped: number;
}

/**
 * Feeds tar's stdin. GNU tar may exit as soon as it reads the end-of-archive blocks, before we have
 * written everything (record padding, or our own end marker): that EPIPE is harmless, and tar's exit
 * status says whether all went well. Meanwhile the upstream keeps draining, so the decompressor still
 * reaches (and verifies) the end of its stream.
 */
function tarSink(stdin: NodeJS.WritableStream & Writable): Writable {
  let gone = false;
  stdin.on('error', () => {
    gone = true;
  });
  stdin.on('close', () => {
    gone = true;
  });
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, callback) {
      if (gone || stdin.write(chunk)) return callback();
      const resume = () => {
        stdin.off('drain', resume);
        stdin.off('close', resume);
        callback();
      };
      stdin.on('drain', resume);
      stdin.on('close', resume);
    },
    final(callback) {
      if (gone) return callback();
      stdin.once('close', () => callback());
      stdin.end();
    },
    destroy(error, callback) {
      stdin.destroy();
      callback(error);
    },
  });
}

/** How useful an error is to the user: the lowest rank is reported when several stages fail at once. */
function rank(error: unknown): number {
  if (error instanceof InterruptedError) return 0;
  // A failing decompressor explains whatever the guard or tar then made of its garbage output.
  if (error instanceof ChildFailed) return error.brokenPipe ? 6 : error.command === 'tar' ? 3 : 1;
  if (error instanceof TruncatedArchiveError) return 4;
  if (error instanceof KpatchError) return 2;
  return 5; // EPIPE, premature close and friends: symptoms of another stage's failure
}

/**
 * Extracts the tar stream `source` (compressed as `compression`) into the existing directory `destDir`.
 * On failure the caller owns cleaning up `destDir` (deb.ts and unpack-tarball.ts extract into a staging dir).
 */
export async function extractTarStream(
  source: Readable,
  destDir: string,
  options: ExtractTarOptions,
): Promise<ExtractSummary> {
  const { where, compression, signal } = options;
  if (signal?.aborted) throw abortError(signal);
  const guard = new TarGuard(options);
  const children: ChildStage[] = [];
  const stages: Duplex[] = [];
  if (compression === 'gzip') stages.push(createGunzip());
  else if (compression !== 'none') {
    const tool = TOOLS[compression];
    const stage = startChild(tool.cmd, tool.args, where, tool.pkg, 'pipe');
    children.push(stage);
    const { stdin, stdout } = stage.child;
    if (!stdin || !stdout) throw new Error('child without pipes');
    stages.push(DuplexStream.from({ writable: stdin, readable: stdout }));
  }
  if (options.convert) stages.push(options.convert());
  const tarArgs = [
    '-x',
    '-f',
    '-',
    '-C',
    destDir,
    '--no-same-owner', // files belong to whoever runs us, even as root
    '--no-same-permissions', // apply the umask; drops setuid/setgid bits
    '--delay-directory-restore', // read-only directories in the archive must not block their contents
    '--warning=no-timestamp',
  ];
  const tar = startChild('tar', tarArgs, where, 'tar', 'ignore');
  children.push(tar);
  if (!tar.child.stdin) throw new Error('tar without stdin');

  const errors: unknown[] = [];
  let stopping = false;
  const stop = (hard: boolean) => {
    if (stopping && !hard) return;
    stopping = true;
    source.destroy();
    for (const stage of children) {
      if (stage.child.exitCode !== null || stage.child.signalCode !== null) continue;
      // Give a failing decompressor a moment to report why, unless the user asked us to stop.
      const kill = () => {
        stage.killed = true;
        stage.child.kill('SIGKILL');
      };
      if (hard) kill();
      else setTimeout(kill, 250).unref();
    }
  };
  const onAbort = () => stop(true);
  signal?.addEventListener('abort', onAbort, { once: true });
  const watch = (promise: Promise<unknown>) =>
    promise.catch((error: unknown) => {
      errors.push(error);
      stop(false);
    });
  try {
    await Promise.all([
      watch(pipeline([source, ...stages, guard, tarSink(tar.child.stdin)])),
      ...children.map((stage) => watch(stage.done)),
    ]);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted) throw abortError(signal);
  if (errors.length > 0) {
    const best = errors.reduce((a, b) => (rank(b) < rank(a) ? b : a));
    throw best instanceof KpatchError
      ? best
      : new SourceError(`${where}: extraction failed: ${(best as Error).message}`, { cause: best });
  }
  return { written: guard.written, skipped: guard.skipped };
}
