import { formatError } from './byte-source.js';
import {
  ELF_MAGIC,
  ELF64_HEADER_SIZE,
  ELF64_PROGRAM_HEADER_SIZE,
  ELF64_SECTION_HEADER_SIZE,
  ELFCLASS64,
  ELFDATA2LSB,
  EV_CURRENT,
  PN_XNUM,
  SHF_ALLOC,
  SHN_LORESERVE,
  SHN_XINDEX,
  SHT_NOBITS,
} from './constants.js';
import type { LayoutMode } from './layout.js';
import { layoutFile } from './layout.js';
import type { ElfSection } from './section.js';
import type { ElfFile } from './types.js';
import type { PlannedSection, WritePlan } from './write-plan.js';
import { planWrite } from './write-plan.js';

export interface SerializeOptions {
  /**
   * 'preserve' (default) keeps every section that still fits at its original offset and copies the
   * original padding, so an unchanged file comes out byte for byte; 'fresh' lays everything out anew.
   */
  layout?: LayoutMode;
}

function writeElfHeader(out: Buffer, elf: ElfFile, plan: WritePlan, sectionHeaderOffset: number): void {
  const h = elf.header;
  ELF_MAGIC.copy(out, 0);
  out[4] = ELFCLASS64;
  out[5] = ELFDATA2LSB;
  out[6] = EV_CURRENT;
  out[7] = h.osabi;
  out[8] = h.abiVersion;
  out.writeUInt16LE(h.type, 16);
  out.writeUInt16LE(h.machine, 18);
  out.writeUInt32LE(h.version, 20);
  out.writeBigUInt64LE(h.entry, 24);
  const ph = h.programHeaders;
  out.writeBigUInt64LE(BigInt(ph ? ph.offset : 0), 32);
  out.writeBigUInt64LE(BigInt(sectionHeaderOffset), 40);
  out.writeUInt32LE(h.flags, 48);
  out.writeUInt16LE(ELF64_HEADER_SIZE, 52);
  out.writeUInt16LE(ph ? ELF64_PROGRAM_HEADER_SIZE : 0, 54);
  out.writeUInt16LE(ph ? Math.min(ph.count, PN_XNUM) : 0, 56);
  out.writeUInt16LE(plan.headerCount > 0 ? ELF64_SECTION_HEADER_SIZE : 0, 58);
  out.writeUInt16LE(plan.headerCount >= SHN_LORESERVE ? 0 : plan.headerCount, 60);
  out.writeUInt16LE(plan.sectionNamesIndex >= SHN_LORESERVE ? SHN_XINDEX : plan.sectionNamesIndex, 62);
}

/** A u64 known to be a safe integer, without going through BigInt (hot when there are many sections). */
function writeU64(out: Buffer, value: number, at: number): void {
  out.writeUInt32LE(value % 0x100000000, at);
  out.writeUInt32LE(Math.floor(value / 0x100000000), at + 4);
}

function writeSectionHeaders(
  out: Buffer,
  elf: ElfFile,
  plan: WritePlan,
  at: number,
  offsets: number[],
): void {
  if (plan.headerCount === 0) return;
  // The null header carries counts that do not fit the ELF header (extended numbering).
  if (plan.headerCount >= SHN_LORESERVE) writeU64(out, plan.headerCount, at + 32);
  if (plan.sectionNamesIndex >= SHN_LORESERVE) out.writeUInt32LE(plan.sectionNamesIndex, at + 40);
  const phCount = elf.header.programHeaders?.count ?? 0;
  if (phCount >= PN_XNUM) out.writeUInt32LE(phCount, at + 44);
  for (let i = 0; i < plan.sections.length; i++) {
    const s = plan.sections[i]!;
    const p = at + (i + 1) * ELF64_SECTION_HEADER_SIZE;
    out.writeUInt32LE(s.nameOffset, p);
    out.writeUInt32LE(s.section.type, p + 4);
    out.writeUInt32LE(s.section.flags >>> 0, p + 8);
    if (s.section.addr !== 0n) out.writeBigUInt64LE(s.section.addr, p + 16);
    writeU64(out, offsets[i]!, p + 24);
    writeU64(out, s.size, p + 32);
    out.writeUInt32LE(s.link, p + 40);
    out.writeUInt32LE(s.info, p + 44);
    writeU64(out, s.section.addralign, p + 48);
    writeU64(out, s.entsize, p + 56);
  }
}

/** Copies the bytes of the parsed file that no header or section owned (padding), where still in range. */
function copyPadding(out: Buffer, elf: ElfFile): void {
  const source = elf.source;
  if (!source?.buffer) return;
  const owned: Array<readonly [number, number]> = [[0, ELF64_HEADER_SIZE], ...source.dataRanges];
  const ph = elf.header.programHeaders;
  if (ph) owned.push([ph.offset, ph.offset + ph.data.length]);
  if (source.sectionHeaderCount > 0) {
    const start = source.sectionHeaderOffset;
    owned.push([start, start + source.sectionHeaderCount * ELF64_SECTION_HEADER_SIZE]);
  }
  owned.sort((a, b) => a[0] - b[0]);
  const limit = Math.min(out.length, source.length);
  let position = 0;
  for (const [start, end] of owned) {
    if (start > position) source.buffer.copy(out, position, position, Math.min(start, limit));
    position = Math.max(position, end);
    if (position >= limit) return;
  }
  if (position < limit) source.buffer.copy(out, position, position, limit);
}

function checkHeaderFields(elf: ElfFile): void {
  const h = elf.header;
  const fits = (v: number, max: number) => Number.isInteger(v) && v >= 0 && v <= max;
  const ok =
    fits(h.osabi, 0xff) &&
    fits(h.abiVersion, 0xff) &&
    fits(h.type, 0xffff) &&
    fits(h.machine, 0xffff) &&
    fits(h.version, 0xffffffff) &&
    fits(h.flags, 0xffffffff) &&
    h.entry >= 0n &&
    h.entry < 1n << 64n;
  if (!ok) throw formatError(elf.file, 'cannot write: an ELF header field is out of range');
}

function isPinned(elf: ElfFile, s: PlannedSection): boolean {
  return elf.header.programHeaders !== undefined && (s.section.flags & SHF_ALLOC) !== 0;
}

function sameSource(elf: ElfFile, section: ElfSection): boolean {
  return elf.source !== undefined && section.origin?.source === elf.source;
}

/** Writes the model as an ELF64 little-endian file, computing every index, offset and size. */
export function serializeElf(elf: ElfFile, options: SerializeOptions = {}): Buffer {
  if (elf.partial) {
    throw formatError(
      elf.file,
      'cannot write a file that was read with symbolsOnly (section data not loaded)',
    );
  }
  checkHeaderFields(elf);
  const plan = planWrite(elf);
  const layout = layoutFile({
    file: elf.file,
    mode: options.layout ?? 'preserve',
    sections: plan.sections.map((s) => ({
      name: s.section.name,
      fileSize: s.content ? s.content.length : 0,
      noBits: s.section.type === SHT_NOBITS,
      addralign: s.section.addralign,
      original: sameSource(elf, s.section) ? s.section.origin : undefined,
      pinned: isPinned(elf, s),
    })),
    headerCount: plan.headerCount,
    programHeaders: elf.header.programHeaders
      ? { offset: elf.header.programHeaders.offset, size: elf.header.programHeaders.data.length }
      : undefined,
    original: elf.source
      ? {
          length: elf.source.length,
          sectionHeaderOffset: elf.source.sectionHeaderOffset,
          sectionHeaderCount: elf.source.sectionHeaderCount,
        }
      : undefined,
  });
  const out = Buffer.alloc(layout.fileSize);
  if ((options.layout ?? 'preserve') === 'preserve') copyPadding(out, elf);
  plan.sections.forEach((s, i) => {
    s.content?.copy(out, layout.sectionOffsets[i]!);
  });
  elf.header.programHeaders?.data.copy(out, elf.header.programHeaders.offset);
  writeSectionHeaders(out, elf, plan, layout.sectionHeaderOffset, layout.sectionOffsets);
  writeElfHeader(out, elf, plan, layout.sectionHeaderOffset);
  return out;
}
