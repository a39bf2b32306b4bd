import type { ElfFile } from '../elf/index.js';
import { relocationsOf, STT_FUNC, STT_SECTION } from '../elf/index.js';
import { UnsupportedChangeError } from '../errors.js';

/** The kpatch callbacks of one object, by kind (the shape of the module spec's ObjectCallbacks). */
export interface ObjectCallbacks {
  prePatch?: string;
  postPatch?: string;
  preUnpatch?: string;
  postUnpatch?: string;
}

const KINDS: ReadonlyArray<[string, keyof ObjectCallbacks]> = [
  ['pre_patch', 'prePatch'],
  ['post_patch', 'postPatch'],
  ['pre_unpatch', 'preUnpatch'],
  ['post_unpatch', 'postUnpatch'],
];

/** KPATCH_FORCE_UNSAFE's records: kpatch's own module format honoured them; klp has no per-function force. */
const FORCE_SECTION = '.kpatch.force';

/**
 * Reads the KPATCH_*_CALLBACK records (include/kpatch-macros.h) of a patched object: each record is a
 * pointer, so its relocation names the function (directly, or as its section symbol + offset).
 */
export function findKpatchCallbacks(elf: ElfFile, object: string): ObjectCallbacks {
  if (elf.sections.some((s) => s.name === FORCE_SECTION)) {
    throw new UnsupportedChangeError(`${object}: uses KPATCH_FORCE_UNSAFE (${FORCE_SECTION})`, {
      hint: "the kernel's livepatch has no per-function force; remove the marker, and if the transition stalls on a busy function, write 1 to /sys/kernel/livepatch/<patch>/force (read Documentation/livepatch/livepatch.rst first)",
    });
  }
  const callbacks: ObjectCallbacks = {};
  for (const [kind, key] of KINDS) {
    const section = elf.sections.find((s) => s.name === `.kpatch.callbacks.${kind}`);
    const relocations = section ? relocationsOf(elf, section) : [];
    if (relocations.length > 1) {
      throw new UnsupportedChangeError(`${object}: more than one ${kind} callback`, {
        hint: 'a livepatch object takes one callback of each kind; call the others from one function',
      });
    }
    const relocation = relocations[0];
    if (!relocation) continue;
    let target = relocation.symbol;
    if (target?.type === STT_SECTION) {
      target = elf.symbols.find(
        (s) => s.section === target?.section && s.type === STT_FUNC && s.value === relocation.addend,
      );
    }
    if (!target || target.type !== STT_FUNC) {
      throw new UnsupportedChangeError(`${object}: the ${kind} callback record does not point at a function`);
    }
    callbacks[key] = target.name;
  }
  return callbacks;
}
