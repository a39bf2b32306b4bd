import type { ElfFile, ElfSection } from '../elf/index.js';
import {
  ET_REL,
  parseElf,
  SHT_GROUP,
  SHT_REL,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
  STT_FILE,
  STT_FUNC,
  STT_OBJECT,
  STT_SECTION,
} from '../elf/index.js';
import { ElfFormatError } from '../errors.js';
import type { DiffObject, DiffSection, DiffSymbol } from './model.js';
import { isSpecialStatic, parentFunctionName } from './symbol-names.js';

const TABLE_TYPES = new Set([SHT_RELA, SHT_REL, SHT_SYMTAB, SHT_STRTAB, SHT_GROUP, SHT_SYMTAB_SHNDX]);

/**
 * CALL_PADDING kernels (-fpatchable-function-entry=16,16, Debian 13) put NOPs before each function in its
 * own section: the function still owns the section when everything before its symbol is NOP padding.
 * (issue 13 interim fix; the differ owns the full prefix-padding handling, see coord ibt-findings.md)
 */
function isPaddingBefore(section: DiffSection, only: DiffSymbol): boolean {
  const value = Number(only.symbol.value);
  const data = section.section.data;
  if (only.symbol.type !== STT_FUNC || value > 64 || data.length < value) return false;
  return data.subarray(0, value).every((byte) => byte === 0x90);
}

/** Parses one relocatable object into the diff's model. */
export function loadObject(path: string, bytes: Buffer): DiffObject {
  const elf = parseElf(bytes, { file: path });
  return modelObject(path, elf);
}

export function modelObject(path: string, elf: ElfFile): DiffObject {
  if (elf.header.type !== ET_REL)
    throw new ElfFormatError('not a relocatable object (ET_REL)', { file: path });
  const grouped = new Set<ElfSection>();
  for (const s of elf.sections) for (const member of s.group?.members ?? []) grouped.add(member);
  const relocationsBy = new Map<ElfSection, ElfSection>();
  for (const s of elf.sections) {
    if ((s.type === SHT_RELA || s.type === SHT_REL) && typeof s.info !== 'number')
      relocationsBy.set(s.info, s);
  }

  const sections: DiffSection[] = [];
  const sectionOf = new Map<ElfSection, DiffSection>();
  for (const section of elf.sections) {
    if (TABLE_TYPES.has(section.type)) continue;
    const diffSection: DiffSection = {
      section,
      relocations: relocationsBy.get(section)?.relocations ?? [],
      bundled: undefined,
      twin: undefined,
      status: 'same',
      grouped: grouped.has(section),
      include: false,
      difference: undefined,
    };
    sections.push(diffSection);
    sectionOf.set(section, diffSection);
  }

  const symbols: DiffSymbol[] = [];
  const symbolOf = new Map<(typeof elf.symbols)[number], DiffSymbol>();
  const namedInSection = new Map<DiffSection, DiffSymbol[]>();
  let sourceFile: string | undefined;
  for (const symbol of elf.symbols) {
    if (symbol.type === STT_FILE) sourceFile ??= symbol.name || undefined;
    const section = symbol.section ? sectionOf.get(symbol.section) : undefined;
    const diffSymbol: DiffSymbol = {
      symbol,
      section,
      twin: undefined,
      status: 'same',
      include: false,
      parent: undefined,
      children: [],
      specialStatic: isSpecialStatic(symbol),
    };
    symbols.push(diffSymbol);
    symbolOf.set(symbol, diffSymbol);
    if (section && (symbol.type === STT_FUNC || symbol.type === STT_OBJECT)) {
      const list = namedInSection.get(section);
      if (list) list.push(diffSymbol);
      else namedInSection.set(section, [diffSymbol]);
    }
  }

  // With -ffunction-sections/-fdata-sections each function or object sits alone in its section: the
  // section then stands for the symbol, and a change to one is a change to the other.
  for (const [section, list] of namedInSection) {
    const only = list.length === 1 ? list[0] : undefined;
    if (only && (only.symbol.value === 0n || isPaddingBefore(section, only))) section.bundled = only;
  }

  const functionsByName = new Map<string, DiffSymbol>();
  for (const s of symbols) if (s.symbol.type === STT_FUNC) functionsByName.set(s.symbol.name, s);
  for (const s of symbols) {
    if (s.symbol.type !== STT_FUNC) continue;
    const parentName = parentFunctionName(s.symbol.name);
    const parent = parentName === undefined ? undefined : functionsByName.get(parentName);
    if (parent && parent !== s) {
      s.parent = parent;
      parent.children.push(s);
    }
  }
  return { path, elf, sections, symbols, sectionOf, symbolOf, sourceFile };
}

/** Named (non-section, non-file) symbols defined in a section of the object. */
export function definedSymbols(object: DiffObject): DiffSymbol[] {
  return object.symbols.filter(
    (s) => s.section !== undefined && s.symbol.type !== STT_SECTION && s.symbol.type !== STT_FILE,
  );
}
