/**
 * Vetting of tar members before anything is written. `TarGuard` is a Transform placed between the
 * decompressor and GNU tar: it parses the stream, refuses a dangerous archive (SourceError naming the
 * member) before the offending header reaches tar, drops members the filter excludes, and forwards
 * the rest byte for byte. GNU tar then does the fast file-system work.
 *
 * Rules (a member is "written" when it passes the filter; lexical rules apply to every member):
 * - absolute names, `..` components, NUL bytes: refused.
 * - nothing may be written *under* a symlink that came from the archive (wherever it points), nor may a
 *   later member replace such a symlink: so no write ever goes through a link.
 * - symlink targets are kept verbatim, absolute or not: `lib/modules/X/build -> /usr/src/...` stays an
 *   absolute link. It is never followed during extraction; callers that need what it names inside the
 *   extracted tree use `resolveInRoot` (tree-paths.ts), which treats the extraction root as `/`.
 * - hard links must name an earlier written regular member inside the tree (not a symlink).
 * - device nodes, FIFOs, sparse and other exotic members: refused.
 * GNU tar 1.34 has its own defences (it strips a leading `/`, skips `..` members, and creates symlinks
 * whose target is absolute or has `..` only at the end), but it warns and carries on with exit status 2,
 * which cannot tell an attack from a full disk; the guard gives a clear refusal first.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { SourceError } from '../errors.js';
import {
  BLOCK,
  buildPaxMember,
  dataSize,
  isZeroBlock,
  longNameOf,
  padded,
  parseHeader,
  parsePax,
  type TarEntryType,
} from './tar-format.js';
import { compileFilter, type MemberFilter, memberPathParts, refuse, type TarMember } from './tree-paths.js';

/** The tar stream stopped inside a member; usually a symptom of an earlier failure (decompressor, download). */
export class TruncatedArchiveError extends SourceError {}

const MAX_META = 1 << 20;

/**
 * What has been written so far into one extraction root. Shared between the archives unpacked into the
 * same root (several .debs merged into one tree), so a symlink from one cannot be written through by another.
 */
export class ExtractionLedger {
  private readonly symlinks = new Map<string, string>();
  private readonly written = new Map<string, TarEntryType>();

  get size(): number {
    return this.written.size;
  }

  has(path: string): boolean {
    return this.written.has(path);
  }

  /** Throws unless `member` may be written; records it when it may. */
  admit(member: TarMember, where: string): void {
    const { path, rawPath } = member;
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      const parent = path.slice(0, slash);
      if (this.symlinks.has(parent)) {
        throw refuse(where, rawPath, `it would be written through the symlink "${parent}"`);
      }
    }
    const oldLink = this.symlinks.get(path);
    if (oldLink !== undefined && !(member.type === 'symlink' && member.linkTarget === oldLink)) {
      throw refuse(where, rawPath, 'it would replace a symlink extracted earlier');
    }
    if (member.type === 'symlink' && this.written.get(path) === 'directory') {
      throw refuse(where, rawPath, 'a symlink would replace a directory extracted earlier');
    }
    if (member.type === 'hardlink') {
      const target = member.linkTarget ?? '';
      const kind = this.written.get(target);
      if (this.symlinks.has(target)) throw refuse(where, rawPath, `hard link to the symlink "${target}"`);
      if (kind === undefined) {
        throw new SourceError(
          `${where}: hard link "${rawPath}" names "${target}", which is not an earlier extracted member`,
          { hint: 'if a filter is in use, make it include the link target too' },
        );
      }
      if (kind !== 'file') throw refuse(where, rawPath, `hard link to the ${kind} "${target}"`);
    }
    if (member.type === 'symlink') this.symlinks.set(path, member.linkTarget ?? '');
    this.written.set(path, member.type === 'hardlink' ? 'file' : member.type);
  }
}

export interface TarGuardOptions {
  /** Names the archive in error messages. */
  where: string;
  /** Leading path components to drop (like GNU tar's --strip-components); done here by rewriting names. */
  strip?: number;
  filter?: MemberFilter;
  ledger?: ExtractionLedger;
  onEntry?: (member: TarMember) => void;
}

type Mode = 'header' | 'meta' | 'data' | 'end';

export class TarGuard extends Transform {
  /** Members forwarded to the extractor. */
  written = 0;
  /** Members dropped by the filter (or by `strip`). */
  skipped = 0;
  readonly ledger: ExtractionLedger;

  private readonly where: string;
  private readonly strip: number;
  private readonly select: ((path: string, m: TarMember) => boolean) | undefined;
  private readonly onEntry: ((member: TarMember) => void) | undefined;
  private mode: Mode = 'header';
  private readonly block = Buffer.alloc(BLOCK);
  private fill = 0;
  private remaining = 0;
  private passing = false;
  private offset = 0;
  private metaHeader: ReturnType<typeof parseHeader> | undefined;
  private metaSize = 0;
  private metaChunks: Buffer[] = [];
  /** Raw PAX/GNU-long-name members waiting for the member they describe. */
  private pendingRaw: Buffer[] = [];
  private pax = new Map<string, string>();
  private longName: string | undefined;
  private longLink: string | undefined;

  constructor(options: TarGuardOptions) {
    super();
    this.where = options.where;
    this.strip = options.strip ?? 0;
    this.select = compileFilter(options.filter);
    this.ledger = options.ledger ?? new ExtractionLedger();
    this.onEntry = options.onEntry;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.mode === 'end') {
      callback();
    } else if (this.mode !== 'header' || this.fill !== 0 || this.pendingRaw.length > 0) {
      callback(
        new TruncatedArchiveError(
          `${this.where}: tar archive ends in the middle of a member (at byte ${this.offset})`,
          {
            hint: 'the archive is truncated; delete it so it is downloaded again',
          },
        ),
      );
    } else {
      this.push(Buffer.alloc(2 * BLOCK)); // no end-of-archive marker: supply one
      callback();
    }
  }

  private consume(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && this.mode !== 'end') {
      const available = chunk.length - pos;
      if (this.mode === 'header') {
        const n = Math.min(BLOCK - this.fill, available);
        chunk.copy(this.block, this.fill, pos, pos + n);
        this.fill += n;
        pos += n;
        this.offset += n;
        if (this.fill === BLOCK) {
          this.fill = 0;
          this.onHeader(Buffer.from(this.block));
        }
      } else {
        const n = Math.min(this.remaining, available);
        const piece = chunk.subarray(pos, pos + n);
        if (this.mode === 'meta') this.metaChunks.push(piece);
        else if (this.passing) this.push(piece);
        pos += n;
        this.offset += n;
        this.remaining -= n;
        if (this.remaining === 0) {
          if (this.mode === 'meta') this.onMetaDone();
          else this.mode = 'header';
        }
      }
    }
  }

  private onHeader(block: Buffer): void {
    const at = this.offset - BLOCK;
    if (isZeroBlock(block)) {
      // GNU tar stops at the first zero block too; whatever follows never reaches it.
      this.push(Buffer.alloc(2 * BLOCK));
      this.mode = 'end';
      return;
    }
    const header = parseHeader(block, this.where, at);
    const isMeta = ['pax-header', 'pax-global', 'gnu-long-name', 'gnu-long-link'].includes(header.type);
    if (isMeta) {
      if (header.size > MAX_META)
        throw refuse(this.where, header.name, `${header.size}-byte metadata header`);
      this.metaHeader = header;
      this.metaSize = header.size;
      this.metaChunks = [block];
      this.remaining = padded(header.size);
      this.mode = 'meta';
      if (this.remaining === 0) this.onMetaDone();
      return;
    }
    const rawPath = this.pax.get('path') ?? this.longName ?? header.name;
    const paxSize = this.pax.get('size');
    const size = dataSize(header, paxSize === undefined ? undefined : Number(paxSize), this.where);
    if (!Number.isSafeInteger(size)) throw refuse(this.where, rawPath, 'bad PAX size');
    const keep = this.decide({
      path: '',
      rawPath,
      type: header.type,
      size,
      mode: header.mode,
      linkTarget: this.pax.get('linkpath') ?? this.longLink ?? header.linkName,
    });
    if (keep) {
      if (this.strip > 0) {
        this.push(buildPaxMember(this.rewrittenPax(keep)));
      } else {
        for (const raw of this.pendingRaw) this.push(raw);
      }
      this.push(block);
    }
    this.pendingRaw = [];
    this.pax = new Map();
    this.longName = undefined;
    this.longLink = undefined;
    this.passing = keep !== undefined;
    this.remaining = padded(size);
    this.mode = this.remaining === 0 ? 'header' : 'data';
  }

  private onMetaDone(): void {
    const header = this.metaHeader!;
    const raw = Buffer.concat(this.metaChunks);
    const data = raw.subarray(BLOCK, BLOCK + this.metaSize);
    this.mode = 'header';
    if (header.type !== 'pax-global' && this.pendingRaw.some((r) => r[156] === raw[156])) {
      // Tars disagree on whether a second one replaces or merges with the first: refuse the ambiguity.
      throw refuse(this.where, header.name, `two ${header.type} headers for one member`);
    }
    if (header.type === 'gnu-long-name') this.longName = longNameOf(data);
    else if (header.type === 'gnu-long-link') this.longLink = longNameOf(data);
    else {
      const records = parsePax(data, this.where);
      for (const [key, value] of records) {
        if (key.startsWith('GNU.sparse'))
          throw refuse(this.where, header.name, 'sparse members are not supported');
        if ((key === 'path' || key === 'linkpath') && value.includes('\0')) {
          throw refuse(this.where, value, 'name contains a NUL byte');
        }
        if (header.type === 'pax-global' && ['path', 'linkpath', 'size'].includes(key)) {
          // GNU tar would apply these to every later member.
          throw refuse(this.where, header.name, `global PAX header sets "${key}"`);
        }
      }
      if (header.type === 'pax-global') {
        this.push(raw); // harmless (e.g. the kernel tarball's git commit comment): pass it on
        return;
      }
      for (const [key, value] of records) this.pax.set(key, value);
    }
    this.pendingRaw.push(raw);
  }

  /** Returns the member to write, or undefined to drop it. Throws on anything dangerous. */
  private decide(member: TarMember): TarMember | undefined {
    const { type, rawPath } = member;
    if (type === 'char-device' || type === 'block-device' || type === 'fifo') {
      throw refuse(this.where, rawPath, `${type} members are not allowed`);
    }
    if (type === 'unsupported') throw refuse(this.where, rawPath, 'unsupported tar member type');
    const parts = memberPathParts(rawPath, this.where).slice(this.strip);
    if (type === 'hardlink') {
      const link = member.linkTarget ?? '';
      let target: string[];
      try {
        target = memberPathParts(link, this.where).slice(this.strip);
      } catch (error) {
        const why = (error as Error).message.replace(/^.*": /, '');
        throw refuse(this.where, rawPath, `hard link target "${link}": ${why}`);
      }
      if (target.length === 0) throw refuse(this.where, rawPath, 'hard link to the extraction root');
      member.linkTarget = target.join('/');
    }
    if (type === 'symlink' && member.linkTarget?.includes('\0'))
      throw refuse(this.where, rawPath, 'NUL in link');
    if (parts.length === 0) {
      this.skipped++; // the archive's root entry ("./") or a member removed entirely by `strip`
      return undefined;
    }
    member.path = parts.join('/');
    if (this.select && !this.select(member.path, member)) {
      this.skipped++;
      return undefined;
    }
    this.ledger.admit(member, this.where);
    this.written++;
    this.onEntry?.(member);
    return member;
  }

  /** With `strip`, the name GNU tar sees is the stripped one, so it cannot disagree with what we vetted. */
  private rewrittenPax(member: TarMember): Map<string, string> {
    const records = new Map(this.pax);
    records.set('path', member.type === 'directory' ? `${member.path}/` : member.path);
    if (member.type === 'hardlink' || member.type === 'symlink')
      records.set('linkpath', member.linkTarget ?? '');
    return records;
  }
}
