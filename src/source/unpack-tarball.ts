/**
 * Unpacks a source tarball (e.g. /usr/src/linux-source-6.1.tar.xz from linux-source-6.1: 83k files,
 * 1.36 GB) all or nothing. Same pipeline as .debs: system decompressor → TarGuard → GNU tar; GNU tar
 * takes ~10 s on that tree where node-tar takes 80–90 s.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { SourceError } from '../errors.js';
import {
  type Compression,
  compressionOfName,
  type ExtractSummary,
  extractTarStream,
  sniffCompression,
} from './extract-tar.js';
import { withStagingDir } from './staging-dir.js';
import type { MemberFilter, TarMember } from './tree-paths.js';

export interface UnpackOptions {
  /** Leading path components to drop, like tar --strip-components (1 turns "linux-source-6.1/Makefile" into "Makefile"). */
  strip?: number;
  /** Globs or predicate, matched against the path after `strip`. */
  filter?: MemberFilter;
  signal?: AbortSignal;
  /** Replace an existing non-empty destination. Default: refuse with SourceError. */
  replace?: boolean;
  onEntry?: (member: TarMember) => void;
}

/** Compression from the file's magic bytes; the name is only a fallback for plain tar. */
export async function detectCompression(archive: string): Promise<Compression> {
  const file = await open(archive, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new SourceError(`${archive}: cannot open: ${error.code ?? error.message}`, {
      hint: 'check the path',
    });
  });
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await file.read(head, 0, 8, 0);
    const sniffed = sniffCompression(head.subarray(0, bytesRead));
    return sniffed === 'none' ? (compressionOfName(archive) ?? 'none') : sniffed;
  } finally {
    await file.close();
  }
}

/** Unpacks `archive` into `dest` (created; must not exist or be empty unless `replace`). */
export async function unpackTarball(
  archive: string,
  dest: string,
  options: UnpackOptions = {},
): Promise<ExtractSummary & { dir: string }> {
  const compression = await detectCompression(archive);
  return withStagingDir(
    dest,
    async (dir) => {
      const summary = await extractTarStream(createReadStream(archive, { highWaterMark: 1 << 20 }), dir, {
        where: archive,
        compression,
        strip: options.strip,
        filter: options.filter,
        signal: options.signal,
        onEntry: options.onEntry,
      });
      return { ...summary, dir: dest };
    },
    { replace: options.replace },
  );
}
