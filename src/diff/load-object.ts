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
import {
  isPrefixSymbol,
  isSpecialStatic,
  isStaticLocal,
  parentFunctionName,
  prefixedFunctionName,
} from './symbol-names.js';

const TABLE_TYPES = new Set([SHT_RELA, SHT_REL, SHT_SYMTAB, SHT_STRTAB, SHT_GROUP, SHT_SYMTAB_SHNDX]);

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
  const prefixesBySection = new Map<DiffSection, DiffSymbol[]>();
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
      staticLocal: false,
    };
    symbols.push(diffSymbol);
    symbolOf.set(symbol, diffSymbol);
    if (section && isPrefixSymbol(symbol)) {
      prefixesBySection.set(section, [...(prefixesBySection.get(section) ?? []), diffSymbol]);
    } else if (section && (symbol.type === STT_FUNC || symbol.type === STT_OBJECT)) {
      const list = namedInSection.get(section);
      if (list) list.push(diffSymbol);
      else namedInSection.set(section, [diffSymbol]);
    }
  }

  // With -ffunction-sections/-fdata-sections each function or object sits alone in its section: the
  // section then stands for the symbol, and a change to one is a change to the other. Function padding
  // (-fpatchable-function-entry=N,N, CALL_PADDING) may come before it: NOPs, or __pfx_/__cfi_ symbols.
  for (const [section, list] of namedInSection) {
    const only = list.length === 1 ? list[0] : undefined;
    if (only && onlyPaddingBefore(only, prefixesBySection)) section.bundled = only;
  }
  attachPrefixSymbols(symbols);

  const functionsByName = new Map<string, DiffSymbol>();
  for (const s of symbols) if (s.symbol.type === STT_FUNC) functionsByName.set(s.symbol.name, s);
  const functionNames = new Set(functionsByName.keys());
  for (const s of symbols) s.staticLocal = isStaticLocal(s.symbol, functionNames);
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

const NOP = 0x90;

/** True when nothing but padding precedes the symbol in its section: NOPs or its own prefix symbols. */
function onlyPaddingBefore(s: DiffSymbol, prefixes: ReadonlyMap<DiffSection, DiffSymbol[]>): boolean {
  const start = s.symbol.value;
  if (start === 0n) return true;
  const section = s.section;
  if (!section || s.symbol.type !== STT_FUNC || start > 64n) return false;
  if (section.relocations.some((r) => r.offset < start)) return false;
  const own = (prefixes.get(section) ?? []).filter((p) => prefixedFunctionName(p.symbol) === s.symbol.name);
  const covered = (at: bigint) =>
    own.some((p) => p.symbol.value <= at && at < p.symbol.value + p.symbol.size);
  const data = section.section.data;
  for (let at = 0n; at < start; at++) {
    if (data[Number(at)] !== NOP && !covered(at)) return false;
  }
  return true;
}

/**
 * `__pfx_foo` (CALL_PADDING) and `__cfi_foo` (kCFI) are the padding in front of `foo`, not functions of
 * their own: they follow foo's section, status and inclusion and are never patched themselves.
 */
function attachPrefixSymbols(symbols: readonly DiffSymbol[]): void {
  for (const p of symbols) {
    const name = prefixedFunctionName(p.symbol);
    if (name === undefined || !p.section) continue;
    const fn = p.section.bundled;
    if (fn?.symbol.name === name) p.prefixOf = fn;
  }
}

/** Named (non-section, non-file) symbols defined in a section of the object. */
export function definedSymbols(object: DiffObject): DiffSymbol[] {
  return object.symbols.filter(
    (s) => s.section !== undefined && s.symbol.type !== STT_SECTION && s.symbol.type !== STT_FILE,
  );
}
