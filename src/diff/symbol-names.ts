import type { ElfSection, ElfSymbol } from '../elf/index.js';
import { SHF_EXECINSTR, STB_LOCAL, STT_FUNC, STT_OBJECT, STT_SECTION } from '../elf/index.js';

/**
 * Names the compiler makes up change between builds: clone numbers (`.isra.0`, `.constprop.1`,
 * `.part.2`), static-local numbers (`count.3`) and `__UNIQUE_ID_name123`. The stem drops those numbers
 * so two builds of the same source agree on it.
 */
export function symbolStem(name: string): string {
  return name
    .replace(/\.(isra|constprop|part|lto_priv|llvm)\.\d+/g, '.$1')
    .replace(/(\.\d+)+$/, '')
    .replace(/^(__UNIQUE_ID_[A-Za-z_]*?)_?\d+$/, '$1');
}

/** `foo` for the padding symbols objtool (`__pfx_foo`, CALL_PADDING) and clang kCFI (`__cfi_foo`) make. */
export function prefixedFunctionName(symbol: ElfSymbol): string | undefined {
  if (symbol.type !== STT_FUNC && symbol.type !== 0) return undefined;
  const match = /^__(pfx|cfi)_(.+)$/.exec(symbol.name);
  return match ? match[2] : undefined;
}

export function isPrefixSymbol(symbol: ElfSymbol): boolean {
  return prefixedFunctionName(symbol) !== undefined;
}

/** The function a `.cold` or `.part.N` piece was split from, or undefined. */
export function parentFunctionName(name: string): string | undefined {
  const cold = /^(.+?)\.cold(\.\d+)?$/.exec(name);
  if (cold) return cold[1];
  const part = /^(.+?)\.part\.\d+$/.exec(name);
  return part ? part[1] : undefined;
}

/**
 * Static locals the kernel's macros create per use site; the patched copy is used, never the kernel's.
 * `__UNIQUE_ID_ddebug` is a dynamic-debug descriptor (pr_debug/dev_dbg): it holds `__LINE__`, so any
 * line moved above a pr_debug() changes it, and the module loader registers the livepatch's own copies.
 */
const SPECIAL_STATIC_STEMS = new Set([
  '__warned',
  '__already_done',
  '__func__',
  '__FUNCTION__',
  '__PRETTY_FUNCTION__',
  '_rs',
  '__key',
  'CSWTCH',
  '__print_once',
  '_entry',
  '_entry_ptr',
  '__msg',
  'descriptor',
  '__UNIQUE_ID_ddebug',
]);

/**
 * Sections made only of such per-site statics (one-shot flags, dynamic-debug descriptors and class
 * maps). Each object in them is its own entry: copied alone, with what it references, never the whole
 * section (see special-sections/per-symbol.ts).
 */
const SPECIAL_STATIC_SECTIONS = new Set([
  '.data.once',
  '.data..once',
  '.data.unlikely',
  '__dyndbg',
  '__dyndbg_classes',
  '__verbose',
]);

export function isSpecialStaticSection(name: string): boolean {
  return SPECIAL_STATIC_SECTIONS.has(name);
}

/**
 * The variable's own name in a function-scope static's symbol: gcc writes `__warned.12`, clang
 * `fn.__warned` (or `fn.__UNIQUE_ID_ddebug291`); both give `__warned`.
 */
export function staticVariableStem(name: string): string {
  const stem = symbolStem(name);
  const dot = stem.lastIndexOf('.');
  return dot > 0 ? symbolStem(stem.slice(dot + 1)) : stem;
}

export function isSpecialStatic(symbol: ElfSymbol): boolean {
  if (symbol.bind !== STB_LOCAL) return false;
  if (symbol.type !== STT_OBJECT && symbol.type !== 0) return false;
  if (symbol.section && SPECIAL_STATIC_SECTIONS.has(symbol.section.name)) return true;
  return (
    SPECIAL_STATIC_STEMS.has(symbolStem(symbol.name)) ||
    SPECIAL_STATIC_STEMS.has(staticVariableStem(symbol.name))
  );
}

/**
 * A function-scope static: a local object whose name got a `.N` suffix from gcc, or that clang named
 * `<function>.<variable>` (pass the object's function names to recognise those).
 */
export function isStaticLocal(symbol: ElfSymbol, functionNames?: ReadonlySet<string>): boolean {
  if (symbol.bind !== STB_LOCAL || symbol.type !== STT_OBJECT) return false;
  if (/\.\d+$/.test(symbol.name)) return true;
  const dot = symbol.name.lastIndexOf('.');
  return dot > 0 && functionNames?.has(symbol.name.slice(0, dot)) === true;
}

/**
 * An assembler-local label (`.LC0`, string and constant pools) that made it into the symbol table:
 * anonymous data like a section symbol, so it is copied with its section, never looked up in the kernel.
 */
export function isAssemblerLabel(symbol: ElfSymbol): boolean {
  return symbol.bind === STB_LOCAL && symbol.name.startsWith('.L');
}

export function isFunction(symbol: ElfSymbol): boolean {
  return symbol.type === STT_FUNC;
}

export function isTextSection(section: ElfSection): boolean {
  return (section.flags & SHF_EXECINSTR) !== 0;
}

/** `__init`/`__exit` code and data: gone after boot or never run by a livepatch. */
export function isInitOrExitSection(section: ElfSection): boolean {
  return /^\.(init|exit)\./.test(section.name);
}

/** Readable name for messages: section symbols are named after their section. */
export function displayName(symbol: ElfSymbol): string {
  if (symbol.type === STT_SECTION) return symbol.section?.name ?? '(section)';
  return symbol.name || '(unnamed)';
}
