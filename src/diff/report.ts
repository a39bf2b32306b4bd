import type { ElfSymbol } from '../elf/index.js';
import { STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FUNC, STT_OBJECT } from '../elf/index.js';
import { resolveSympos } from '../symbols/resolve-sympos.js';
import { nearestCandidate } from './nearest-candidate.js';
import type { ParentSymbols } from './parent-symbols.js';
import type { Refusal } from './refusals.js';
import type { UntracedRedirect } from './traceable-callers.js';

export type DiffOutcome = 'changed' | 'no-change' | 'refused';

/** A symbol the output uses but does not define: the running kernel's copy must be found for it. */
export interface ExternalReference {
  name: string;
  binding: 'local' | 'global' | 'weak';
  type: 'func' | 'object' | 'other';
  /** Exported by the parent (usable through a normal module relocation). */
  exported: boolean;
  /** Position among same-named symbols of the parent (0 = unique); null when not found or ambiguous. */
  sympos: number | null;
  /** Number of symbols of that name in the parent (0 when no --symbols were given or none was found). */
  candidates: number;
}

export interface DiffReport {
  object: string;
  parent: string;
  outcome: DiffOutcome;
  changedFunctions: string[];
  newFunctions: string[];
  /** Changed functions ftrace cannot redirect: copied, with their callers patched instead. */
  untracedFunctions: UntracedRedirect[];
  /** Functions and sections whose changes KPATCH_IGNORE_FUNCTION/SECTION told the differ to ignore. */
  ignored: string[];
  /**
   * Positions of changed functions whose name is not unique in a parent without file names (kallsyms),
   * told by nearness to the object's own symbols (nearest-candidate.ts).
   */
  nearestSympos: Record<string, number>;
  /** `.cold`/`.part` pieces copied with their changed parent. */
  childFunctions: string[];
  /** New data objects and special statics copied into the output. */
  newData: string[];
  externalReferences: ExternalReference[];
  refusals: Refusal[];
}

function bindingName(bind: number): ExternalReference['binding'] {
  if (bind === STB_LOCAL) return 'local';
  return bind === STB_WEAK ? 'weak' : 'global';
}

/**
 * Describes one external reference. Locals are found through the source file they were defined in,
 * so a `static` name used in several files still gets the right sympos.
 */
export function describeReference(
  symbol: ElfSymbol,
  name: string,
  parentSymbols: ParentSymbols | undefined,
  sourceFile: string | undefined,
  /** Where the object's own unique symbols are in the parent (for parents without file information). */
  anchors?: () => readonly bigint[],
): ExternalReference {
  const reference: ExternalReference = {
    name,
    binding: bindingName(symbol.bind),
    type: symbol.type === STT_FUNC ? 'func' : symbol.type === STT_OBJECT ? 'object' : 'other',
    exported: parentSymbols?.exports.has(name) === true && symbol.bind !== STB_LOCAL,
    sympos: null,
    candidates: 0,
  };
  if (!parentSymbols) return reference;
  const candidates = parentSymbols.table.candidates(name);
  reference.candidates = candidates.length;
  if (candidates.length === 1) {
    reference.sympos = 0;
  } else if (candidates.length > 1 && symbol.bind === STB_LOCAL) {
    const withFiles = candidates.some((c) => c.file !== undefined);
    const position =
      withFiles && sourceFile
        ? candidates.findIndex((c) => c.file === sourceFile) + 1
        : !withFiles && anchors
          ? (nearestCandidate(candidates, anchors()) ?? 0)
          : 0;
    if (position > 0 && resolveSympos(parentSymbols.table, name, position).ok) reference.sympos = position;
  } else if (candidates.length > 1 && symbol.bind === STB_GLOBAL) {
    const globals = candidates.filter((c) => c.file === undefined);
    if (globals.length === 1) reference.sympos = candidates.indexOf(globals[0]!) + 1;
  }
  return reference;
}
