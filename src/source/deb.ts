/**
 * Reading Debian packages without dpkg. A .deb is an `ar` archive ("!<arch>\n", then members each with
 * a 60-byte header): debian-binary, control.tar.{gz,xz,zst,…}, data.tar.{…}. We read the member table
 * with positioned reads and stream only the data member's byte range, so an 800 MB package is never
 * held in memory.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { SourceError } from '../errors.js';
import { extractPackagesInto } from './extract-packages.js';
import { type Compression, compressionOfName, decompressBuffer, extractTarStream } from './extract-tar.js';
import type { ExtractionLedger } from './safe-extract.js';
import { readTarBuffer } from './tar-format.js';
import { type MemberFilter, memberPathParts, type TarMember } from './tree-paths.js';

export interface ArMember {
  name: string;
  /** Byte offset of the member's data in the file. */
  offset: number;
  size: number;
  mtime: number;
  mode: number;
}

const AR_MAGIC = '!<arch>\n';
const AR_HEADER = 60;

function corrupt(deb: string, why: string): SourceError {
  return new SourceError(`${deb}: not a valid .deb: ${why}`, {
    hint: 'the file is corrupt or incomplete; delete it so it is downloaded again',
  });
}

/** Lists the ar members of a .deb (or any ar archive). */
export async function listDebMembers(deb: string): Promise<ArMember[]> {
  const file = await open(deb, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new SourceError(`${deb}: cannot open: ${error.code ?? error.message}`, { hint: 'check the path' });
  });
  try {
    const fileSize = (await file.stat()).size;
    const head = Buffer.alloc(AR_HEADER);
    const { bytesRead } = await file.read(head, 0, AR_MAGIC.length, 0);
    if (head.toString('latin1', 0, bytesRead) !== AR_MAGIC) throw corrupt(deb, 'no "!<arch>" signature');
    const members: ArMember[] = [];
    let pos = AR_MAGIC.length;
    while (pos < fileSize) {
      const got = (await file.read(head, 0, AR_HEADER, pos)).bytesRead;
      if (got === 1 && pos === fileSize - 1 && head[0] === 0x0a) break; // trailing pad byte
      if (got < AR_HEADER || head.toString('latin1', 58, 60) !== '`\n')
        throw corrupt(deb, `bad member header at ${pos}`);
      const field = (start: number, length: number) => head.toString('latin1', start, start + length).trim();
      let name = field(0, 16);
      let size = Number(field(48, 10));
      let offset = pos + AR_HEADER;
      if (!/^\d+$/.test(field(48, 10))) throw corrupt(deb, `bad member size at ${pos}`);
      if (name.startsWith('#1/')) {
        // BSD ar: the name is stored at the start of the data.
        const length = Number(name.slice(3));
        const nameBuf = Buffer.alloc(length);
        await file.read(nameBuf, 0, length, offset);
        name = nameBuf.toString('utf8').replace(/\0+$/, '');
        offset += length;
        size -= length;
      } else if (name.endsWith('/') && name !== '/' && name !== '//') {
        name = name.slice(0, -1); // GNU ar terminator
      }
      if (offset + size > fileSize)
        throw corrupt(deb, `member "${name}" is cut short (incomplete download?)`);
      members.push({
        name,
        offset,
        size,
        mtime: Number(field(16, 12)),
        mode: Number.parseInt(field(40, 8), 8),
      });
      pos = offset + size + (size % 2); // data is padded to an even length
    }
    return members;
  } finally {
    await file.close();
  }
}

/** The control.tar.* or data.tar.* member, checked to be a Debian package of format 2.x. */
async function findDebMember(deb: string, prefix: 'control.tar' | 'data.tar') {
  const members = await listDebMembers(deb);
  if (members[0]?.name !== 'debian-binary') throw corrupt(deb, 'first member is not debian-binary');
  const member = members.find((m) => m.name === prefix || m.name.startsWith(`${prefix}.`));
  if (!member) throw corrupt(deb, `no ${prefix}.* member`);
  const compression = compressionOfName(member.name);
  if (!compression) {
    throw new SourceError(`${deb}: unsupported member ${member.name}`, {
      hint: 'supported: .tar, .tar.gz, .tar.xz, .tar.zst, .tar.bz2, .tar.lzma',
    });
  }
  return { member, compression };
}

async function readMember(deb: string, member: ArMember): Promise<Buffer> {
  const file = await open(deb, 'r');
  try {
    const data = Buffer.alloc(member.size);
    await file.read(data, 0, member.size, member.offset);
    return data;
  } finally {
    await file.close();
  }
}

export interface DebExtractOptions {
  /** Only members matching these globs (e.g. ['./boot/vmlinuz-*', './lib/modules/**']) or predicate. */
  filter?: MemberFilter;
  signal?: AbortSignal;
  /** Replace an existing non-empty destination. Default: refuse with SourceError. */
  replace?: boolean;
  onEntry?: (member: TarMember, deb: string) => void;
}

export interface DebExtractResult {
  dir: string;
  /** Members written. */
  written: number;
  /** Members left out by the filter. */
  skipped: number;
}

/**
 * Extracts the data.tar of `deb` into the existing directory `dir`, without staging. `ledger` is shared
 * when several packages go into one tree. Most callers want extractDebs.
 */
export async function extractDebData(
  deb: string,
  dir: string,
  options: DebExtractOptions & { ledger?: ExtractionLedger } = {},
): Promise<{ written: number; skipped: number; compression: Compression }> {
  const { member, compression } = await findDebMember(deb, 'data.tar');
  const source =
    member.size === 0
      ? createReadStream('/dev/null')
      : createReadStream(deb, {
          start: member.offset,
          end: member.offset + member.size - 1,
          highWaterMark: 1 << 20,
        });
  const summary = await extractTarStream(source, dir, {
    where: `${deb} (${member.name})`,
    compression,
    filter: options.filter,
    ledger: options.ledger,
    signal: options.signal,
    onEntry: options.onEntry && ((m) => options.onEntry?.(m, deb)),
  });
  return { ...summary, compression };
}

/**
 * Extracts the files of one or more packages into one tree at `dest`, all or nothing: they are unpacked
 * into a staging directory beside `dest` that is renamed into place only when every package succeeded.
 * One tree matters for kernel headers, whose symlinks point into each other's packages
 * (linux-headers-X/scripts -> ../../lib/linux-kbuild-6.1/scripts).
 */
export async function extractDebs(
  debs: readonly string[],
  dest: string,
  options: DebExtractOptions = {},
): Promise<DebExtractResult> {
  const { results: _, ...summary } = await extractPackagesInto(
    dest,
    debs,
    (deb, dir, ledger) => extractDebData(deb, dir, { ...options, ledger }),
    { replace: options.replace },
  );
  return summary;
}

export function extractDeb(
  deb: string,
  dest: string,
  options: DebExtractOptions = {},
): Promise<DebExtractResult> {
  return extractDebs([deb], dest, options);
}

export interface DebControl {
  package: string;
  version: string;
  architecture: string;
  /** The Depends field split at commas; alternatives stay together ("a | b"). */
  depends: string[];
  /** Every field as written (continuation lines joined with "\n"). */
  fields: Record<string, string>;
}

/** Parses the first paragraph of a deb822 control file. */
export function parseControl(text: string, where = 'control'): DebControl {
  const fields: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (last !== undefined) break;
      continue;
    }
    if (line.startsWith('#')) continue;
    if (/^[ \t]/.test(line)) {
      if (last === undefined)
        throw new SourceError(`${where}: continuation line before any field`, {
          hint: 'the package is corrupt',
        });
      const more = line.slice(1);
      fields[last] += `\n${more === '.' ? '' : more}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0)
      throw new SourceError(`${where}: malformed line "${line}"`, { hint: 'the package is corrupt' });
    last = line.slice(0, colon).trim();
    fields[last] = line.slice(colon + 1).trim();
  }
  const get = (name: string) =>
    Object.entries(fields).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  const required = (name: string) => {
    const value = get(name);
    if (!value) throw new SourceError(`${where}: no ${name} field`, { hint: 'the package is corrupt' });
    return value;
  };
  return {
    package: required('Package'),
    version: required('Version'),
    architecture: required('Architecture'),
    depends: (get('Depends') ?? '')
      .split(',')
      .map((dep) => dep.replace(/\s+/g, ' ').trim())
      .filter(Boolean),
    fields,
  };
}

/** Reads and parses the `control` file of a .deb. */
export async function readDebControl(deb: string): Promise<DebControl> {
  const { member, compression } = await findDebMember(deb, 'control.tar');
  if (member.size > 64 << 20) throw corrupt(deb, `${member.name} is implausibly large`);
  const where = `${deb} (${member.name})`;
  const tar = await decompressBuffer(await readMember(deb, member), compression, where);
  for (const entry of readTarBuffer(tar, where)) {
    if (entry.type === 'file' && memberPathParts(entry.path, where).join('/') === 'control') {
      return parseControl(entry.data.toString('utf8'), `${basename(deb)}: control`);
    }
  }
  throw corrupt(deb, `${member.name} has no control file`);
}
