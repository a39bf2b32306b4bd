import type { ElfFile, ElfSection } from '../elf/index.js';
import { findSection, relocationSectionFor, symbolsInSection } from '../elf/index.js';
import { ConvertError } from '../errors.js';
import { readModinfo } from '../module/modinfo.js';
import { MODVERSION_ENTRY_SIZE, readModversions } from '../module/modversions.js';
import { kernelModuleName } from '../symbols/module-symbols.js';

/**
 * Removes modules from the `depends=` entry of .modinfo (modpost lists the modules whose exports the module
 * uses; modprobe would load them first). The entry is rewritten in place and padded with NULs, which the
 * kernel and kmod skip, so no other .modinfo string or symbol moves. Returns the names removed.
 */
export function removeDepends(elf: ElfFile, modules: ReadonlySet<string>): string[] {
  const section = findSection(elf, '.modinfo');
  if (!section || modules.size === 0) return [];
  const entry = readModinfo(elf).find((e) => e.key === 'depends');
  if (!entry) return [];
  const listed = entry.text
    .slice('depends='.length)
    .split(',')
    .filter((m) => m !== '');
  const kept = listed.filter((m) => !modules.has(kernelModuleName(m)));
  if (kept.length === listed.length) return [];
  const text = Buffer.from(`depends=${kept.join(',')}`, 'latin1');
  const original = Buffer.byteLength(entry.text, 'latin1');
  text.copy(section.data, entry.offset);
  section.data.fill(0, entry.offset + text.length, entry.offset + original);
  return listed.filter((m) => modules.has(kernelModuleName(m)));
}

function checkNoRelocations(elf: ElfFile, section: ElfSection): void {
  if ((relocationSectionFor(elf, section)?.relocations?.length ?? 0) > 0) {
    throw new ConvertError(
      `${elf.file ?? 'module'}: section ${section.name} has relocations; cannot rewrite it`,
      {
        hint: 'modpost writes symbol version tables as constants; was this module built by kbuild?',
      },
    );
  }
}

/** Gives the section new contents and keeps the symbols that cover it (e.g. ____versions) sized to match. */
function replaceData(elf: ElfFile, section: ElfSection, data: Buffer): void {
  const oldSize = BigInt(section.data.length);
  section.data = data;
  for (const symbol of symbolsInSection(elf, section)) {
    if (symbol.value === 0n && symbol.size === oldSize) symbol.size = BigInt(data.length);
  }
}

/**
 * Drops the symbol-version (CRC) entries of `names` from __versions and, where present, from the extended
 * tables of newer kernels (__version_ext_crcs + __version_ext_names). Once a reference is a livepatch
 * relocation the loader never looks its CRC up; the entry would only tell depmod about a dependency that is
 * gone. Returns the names removed.
 */
export function removeVersions(elf: ElfFile, names: ReadonlySet<string>): string[] {
  const removed: string[] = [];
  const versions = findSection(elf, '__versions');
  if (versions && names.size > 0) {
    checkNoRelocations(elf, versions);
    const data = versions.data;
    if (data.length % MODVERSION_ENTRY_SIZE !== 0) {
      throw new ConvertError(
        `${elf.file ?? 'module'}: __versions has ${data.length} bytes, not a whole number of ${MODVERSION_ENTRY_SIZE}-byte entries`,
        { hint: 'only 64-bit modules are supported' },
      );
    }
    const kept: Buffer[] = [];
    for (const entry of readModversions(elf)) {
      if (names.has(entry.name)) removed.push(entry.name);
      else kept.push(entry.bytes);
    }
    if (removed.length > 0) replaceData(elf, versions, Buffer.concat(kept));
  }
  const crcs = findSection(elf, '__version_ext_crcs');
  const extNames = findSection(elf, '__version_ext_names');
  if (crcs && extNames && names.size > 0) {
    checkNoRelocations(elf, crcs);
    checkNoRelocations(elf, extNames);
    const list = extNames.data.toString('latin1').split('\0');
    if (list.at(-1) === '') list.pop();
    if (list.length * 4 !== crcs.data.length) {
      throw new ConvertError(
        `${elf.file ?? 'module'}: __version_ext_names has ${list.length} names but __version_ext_crcs ${crcs.data.length / 4} CRCs`,
      );
    }
    const keptNames: string[] = [];
    const keptCrcs: Buffer[] = [];
    list.forEach((name, i) => {
      if (names.has(name)) {
        removed.push(name);
        return;
      }
      keptNames.push(name);
      keptCrcs.push(crcs.data.subarray(i * 4, i * 4 + 4));
    });
    if (keptNames.length < list.length) {
      replaceData(elf, crcs, Buffer.concat(keptCrcs));
      replaceData(elf, extNames, Buffer.from(keptNames.map((n) => `${n}\0`).join(''), 'latin1'));
    }
  }
  return [...new Set(removed)];
}
