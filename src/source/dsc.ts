/** Debian source control files (.dsc): what a source package is made of and the SHA256 of each part. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ChecksumError, KpatchError, SourceError } from '../errors.js';
import { type FileChecksum, parseDeb822, sha256Lines } from './deb822.js';

export interface Dsc {
  source: string;
  version: string;
  /** "1.0", "3.0 (quilt)" or "3.0 (native)". */
  format: string;
  files: FileChecksum[];
}

export function parseDsc(text: string, where: string): Dsc {
  const [paragraph] = parseDeb822(text, where);
  if (!paragraph) throw new SourceError(`${where}: empty .dsc`, { hint: 'the file is corrupt' });
  const files = sha256Lines(paragraph, 'Checksums-Sha256', where);
  if (files.length === 0) {
    throw new SourceError(`${where}: no Checksums-Sha256 field`, {
      hint: 'only .dsc files with SHA256 checksums are accepted (dpkg ≥ 1.15)',
    });
  }
  return {
    source: paragraph.required('Source', where),
    version: paragraph.required('Version', where),
    format: paragraph.field('Format') ?? '1.0',
    files,
  };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Checks each file the .dsc names, in `dir`, against its size and SHA256. */
export async function verifyDscFiles(dsc: Dsc, dir: string, where: string): Promise<void> {
  for (const file of dsc.files) {
    const path = join(dir, file.name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      throw new SourceError(`${where}: ${file.name} is missing next to the .dsc`, {
        hint: 'download every file the .dsc lists into the same directory',
      });
    }
    if (info.size !== file.size) {
      throw new KpatchError('checksum', `${path}: size ${info.size}, but ${where} says ${file.size}`, {
        hint: 'the file is corrupt or incomplete; delete it so it is downloaded again',
      });
    }
    const actual = await sha256File(path);
    if (actual !== file.sha256) {
      throw new ChecksumError(path, `${file.sha256} (from ${where})`, actual, {
        hint: 'the file is corrupt or was altered; delete it so it is downloaded again',
      });
    }
  }
}
