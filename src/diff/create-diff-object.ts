import { readFile, writeFile } from 'node:fs/promises';
import type { ElfFile } from '../elf/index.js';
import { STT_FUNC, STT_OBJECT, writeElfFile } from '../elf/index.js';
import { ElfFormatError, NoChangeError } from '../errors.js';
import { compareSections } from './compare-sections.js';
import { correlateSectionSymbols, correlateSections } from './correlate-sections.js';
import { correlateSymbols } from './correlate-symbols.js';
import { callsFentry } from './fentry.js';
import { includeChangedFunctions, includeRelocationTargets, isCopied } from './include-dependencies.js';
import { applyIgnoreMarkers } from './kpatch-markers.js';
import { loadObject } from './load-object.js';
import { markChangedSymbols } from './mark-changed.js';
import type { DiffObject, DiffSymbol } from './model.js';
import { nearestCandidate, objectAnchors } from './nearest-candidate.js';
import type { ParentSymbols } from './parent-symbols.js';
import { loadParentSymbols } from './parent-symbols.js';
import type { Refusal } from './refusals.js';
import { throwIfRefused } from './refusals.js';
import { replaceSectionSymbols } from './replace-section-symbols.js';
import type { DiffReport } from './report.js';
import { describeReference } from './report.js';
import { filterSpecialSections } from './special-sections/filter-special-sections.js';
import { cutPerSymbolSections } from './special-sections/per-symbol.js';
import { correlateStaticLocals } from './static-locals.js';
import type { StructSizes } from './struct-sizes.js';
import { patchTraceableCallers } from './traceable-callers.js';
import { verifyPatchability } from './verify-patchability.js';
import { buildOutput, kernelName } from './write-output.js';

/**
 * Whether livepatch redirects the function itself. A `.cold` piece is only jumped to from its parent,
 * which is patched in its place; a changed `.part.N` piece with its own `__fentry__` is patched as well,
 * because functions that inlined the parent's fast path call the piece directly.
 */
function isPatchedItself(patched: DiffObject, s: DiffSymbol): boolean {
  if (s.untraced) return false;
  return !s.parent || (s.status === 'changed' && callsFentry(patched, s));
}

export interface DiffInputs {
  origPath: string;
  orig: Buffer;
  patchedPath: string;
  patched: Buffer;
  /** 'vmlinux' (default) or the name of the module the object belongs to. */
  parent?: string;
  parentSymbols?: ParentSymbols;
  structSizes?: StructSizes;
}

export interface DiffResult {
  report: DiffReport;
  /** The livepatch object, when the outcome is 'changed'. */
  output: ElfFile | undefined;
}

function checkSameKind(orig: DiffObject, patched: DiffObject): void {
  if (orig.elf.header.machine !== patched.elf.header.machine) {
    throw new ElfFormatError(
      `machine ${patched.elf.header.machine} differs from the original's (${orig.elf.header.machine})`,
      {
        file: patched.path,
      },
    );
  }
}

/**
 * Compares two builds of one object and keeps what changed. The steps, in order:
 *  1. load both objects; functions and objects alone in their sections are bundled with them;
 *  2. rewrite "section symbol + offset" references to the symbols they mean;
 *  3. correlate symbols (by name, then by name without compiler numbers), static locals (through the
 *     functions using them), sections (following their symbols) and section symbols;
 *  4. compare correlated sections by meaning and mark sections and symbols same/changed/new; honour
 *     KPATCH_IGNORE_*; a changed function ftrace cannot redirect makes its callers changed instead;
 *  5. include changed and new functions and what they need (copy new things, reference old ones);
 *  6. cut the special sections to the entries of included functions and include what those need;
 *  7. refuse what cannot be livepatched; report "no change" when nothing is left;
 *  8. build the output object and the report.
 */
export function diffObjects(inputs: DiffInputs): DiffResult {
  const parent = inputs.parent ?? 'vmlinux';
  const orig = loadObject(inputs.origPath, inputs.orig);
  const patched = loadObject(inputs.patchedPath, inputs.patched);
  checkSameKind(orig, patched);

  replaceSectionSymbols(orig);
  replaceSectionSymbols(patched);

  correlateSymbols(orig, patched);
  const refusals: Refusal[] = correlateStaticLocals(orig, patched);
  correlateSections(orig, patched);
  correlateSectionSymbols(orig, patched);

  compareSections(orig, patched);
  markChangedSymbols(orig, patched);
  const ignored = applyIgnoreMarkers(patched);
  const untraced = patchTraceableCallers(patched);
  refusals.push(...untraced.refusals);

  const chosen = includeChangedFunctions(patched);
  const parentSymbols = inputs.parentSymbols;
  let anchors: bigint[] | undefined;
  const objectPlace = () => {
    anchors ??= parentSymbols ? objectAnchors(orig, parentSymbols.table) : [];
    return anchors;
  };
  const special = filterSpecialSections(patched, inputs.structSizes ?? {}, {
    parent,
    parentDefines: (name) => parentSymbols?.table.has(name) === true,
  });
  for (const cut of special.filtered) includeRelocationTargets(patched, cut.relocations);
  // Last: the tables above may have pulled in more per-site statics (a jump label's dyndbg key).
  special.filtered.push(...cutPerSymbolSections(patched));
  refusals.push(...special.refusals);
  // One refusal per problem: patchTraceableCallers may already have said why a function is refused.
  for (const refusal of verifyPatchability(patched, chosen)) {
    if (!refusals.some((r) => r.kind === refusal.kind && r.where === refusal.where)) refusals.push(refusal);
  }

  const report: DiffReport = {
    object: inputs.patchedPath,
    parent,
    outcome: 'changed',
    changedFunctions: chosen
      .filter((s) => s.status === 'changed' && isPatchedItself(patched, s))
      .map(kernelName),
    untracedFunctions: untraced.redirects,
    ignored,
    nearestSympos: {},
    newFunctions: chosen.filter((s) => s.status === 'new' && !s.parent).map(kernelName),
    childFunctions: patched.symbols
      .filter((s) => s.symbol.type === STT_FUNC && s.parent && isCopied(s) && !isPatchedItself(patched, s))
      .map(kernelName),
    newData: patched.symbols
      .filter((s) => s.symbol.type === STT_OBJECT && isCopied(s) && s.status === 'new')
      .map((s) => s.symbol.name),
    externalReferences: [],
    refusals,
  };
  // Where a patched static's name is not unique and the parent's symbols have no file names (kallsyms).
  if (parentSymbols) {
    for (const name of report.changedFunctions) {
      const candidates = parentSymbols.table.candidates(name);
      if (candidates.length < 2 || candidates.some((c) => c.file !== undefined)) continue;
      const position = nearestCandidate(candidates, objectPlace());
      if (position !== undefined) report.nearestSympos[name] = position;
    }
  }
  if (refusals.length > 0) return { report: { ...report, outcome: 'refused' }, output: undefined };
  if (chosen.length === 0 && report.newData.length === 0) {
    return { report: { ...report, outcome: 'no-change' }, output: undefined };
  }
  const output = buildOutput(patched, special.filtered, inputs.patchedPath);
  report.externalReferences = output.undefinedSymbols.map(({ source }) =>
    describeReference(source.symbol, kernelName(source), parentSymbols, orig.sourceFile, objectPlace),
  );
  return { report, output: output.elf };
}

export interface CreateDiffObjectOptions {
  origPath: string;
  patchedPath: string;
  outputPath: string;
  /** vmlinux, a module .ko, or (standalone) the original object: where sympos and exports come from. */
  symbolsPath?: string;
  parent?: string;
  moduleSymversPath?: string;
  reportPath?: string;
  structSizes?: StructSizes;
}

/**
 * The create-diff-object tool as a function: reads the objects, writes OUT.o (and the JSON report), and
 * throws NoChangeError or UnsupportedChangeError for the outcomes kpatch signals with exit 3 and 2. The
 * report is written for every outcome, so refusals can be read by machines too.
 */
export async function createDiffObject(options: CreateDiffObjectOptions): Promise<DiffReport> {
  const parent = options.parent ?? 'vmlinux';
  const [orig, patched, parentSymbols] = await Promise.all([
    readFile(options.origPath),
    readFile(options.patchedPath),
    options.symbolsPath
      ? loadParentSymbols(options.symbolsPath, parent, options.moduleSymversPath)
      : undefined,
  ]);
  const { report, output } = diffObjects({
    origPath: options.origPath,
    orig,
    patchedPath: options.patchedPath,
    patched,
    parent,
    ...(parentSymbols ? { parentSymbols } : {}),
    ...(options.structSizes ? { structSizes: options.structSizes } : {}),
  });
  if (options.reportPath) await writeFile(options.reportPath, `${JSON.stringify(report, null, 2)}\n`);
  throwIfRefused(report.refusals);
  if (report.outcome === 'no-change' || !output) {
    throw new NoChangeError(`${options.patchedPath}: no functional changes found`, {
      hint: 'the patch changes nothing the compiler emits for this object (comments, line numbers, unused code)',
    });
  }
  await writeElfFile(options.outputPath, output);
  return report;
}
