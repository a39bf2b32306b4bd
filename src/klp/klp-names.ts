/**
 * Names and numbers of the kernel's livepatch ELF format (Documentation/livepatch/module-elf-format.rst,
 * include/uapi/linux/elf.h, kernel/livepatch/core.c).
 */

/** st_shndx of a livepatch symbol: resolved by the livepatch core, not the module loader. */
export const SHN_LIVEPATCH = 0xff20;
/** sh_flags bit of a livepatch relocation section. */
export const SHF_RELA_LIVEPATCH = 0x00100000;

export const KLP_RELA_PREFIX = '.klp.rela.';
export const KLP_SYM_PREFIX = '.klp.sym.';
/** Sections written by KLP_MODULE_RELOC() of include/klp-module-reloc.h. */
export const MODULE_RELOCS_PREFIX = '.klp.module_relocs.';

/** The kernel reads object names with "%55[^.]" (MODULE_NAME_LEN - 1 on 64-bit). */
export const MAX_OBJECT_NAME = 55;
/** ...and symbol names with "%511[^,]" (KSYM_NAME_LEN - 1). */
export const MAX_SYMBOL_NAME = 511;

export const VMLINUX = 'vmlinux';

/** `.klp.sym.<object>.<name>,<sympos>` */
export function klpSymbolName(object: string, name: string, sympos: number): string {
  return `${KLP_SYM_PREFIX}${object}.${name},${sympos}`;
}

/** `.klp.rela.<object>.<section>`, e.g. `.klp.rela.vmlinux..text.foo` for section `.text.foo`. */
export function klpRelaSectionName(object: string, section: string): string {
  return `${KLP_RELA_PREFIX}${object}.${section}`;
}

/** Why the kernel could not parse `object` as an object name, or undefined when it can. */
export function objectNameProblem(object: string): string | undefined {
  if (object === '') return 'the object name is empty';
  if (object.includes('.')) return `object name "${object}" contains '.', which ends the name for the kernel`;
  if (object.length > MAX_OBJECT_NAME)
    return `object name "${object}" has ${object.length} characters; the kernel reads at most ${MAX_OBJECT_NAME}`;
  return undefined;
}

/** Why the kernel could not parse `name` in a `.klp.sym` name, or undefined when it can. */
export function symbolNameProblem(name: string): string | undefined {
  if (name.includes(',')) return `symbol name "${name}" contains ',', which ends the name for the kernel`;
  if (name.length > MAX_SYMBOL_NAME)
    return `symbol name "${name.slice(0, 40)}..." has ${name.length} characters; the kernel reads at most ${MAX_SYMBOL_NAME}`;
  return undefined;
}

/** Parses `.klp.sym.<object>.<name>,<pos>` the way klp_resolve_symbols() does; undefined when it would fail. */
export function parseKlpSymbolName(
  full: string,
): { object: string; name: string; sympos: number } | undefined {
  const m = /^\.klp\.sym\.([^.]{1,55})\.([^,]{1,511}),(\d+)$/.exec(full);
  if (!m) return undefined;
  return { object: m[1]!, name: m[2]!, sympos: Number(m[3]) };
}

/** The object of a `.klp.rela.<object>.<section>` name, the way klp_apply_section_relocs() reads it. */
export function klpRelaObject(sectionName: string): string | undefined {
  const m = /^\.klp\.rela\.([^.]{1,55})/.exec(sectionName);
  return m?.[1];
}
