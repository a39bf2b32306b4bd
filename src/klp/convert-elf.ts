/**
 * klp-convert's passes, in order: check the module's shape; check its KLP_MODULE_RELOC declarations;
 * collect the uses of each undefined symbol; resolve each symbol (resolve-symbol.ts); check the sites its
 * relocations would write; then, only if nothing is wrong, apply the conversion (apply-conversion.ts).
 */
import type { ElfFile, ElfSymbol } from '../elf/index.js';
import { EM_X86_64, ET_REL } from '../elf/index.js';
import { ConvertError } from '../errors.js';
import { modinfoValue } from '../module/modinfo.js';
import { applyPlans } from './apply-conversion.js';
import { checkDeclarations } from './check-declarations.js';
import { checkRelocationSites } from './check-relocation-sites.js';
import { collectUses, isUndefined } from './collect-uses.js';
import { CANNOT_CONVERT_HINT, cannotConvert, leftUnresolved, unwritableName } from './convert-messages.js';
import type { ConvertContext, ConvertReport, Plan, SymbolUses } from './convert-types.js';
import { objectNameProblem, symbolNameProblem } from './klp-names.js';
import type { SymposDeclaration } from './module-relocs.js';
import { exportOwner, resolveSymbol, type SymbolLookup, symbolLookup } from './resolve-symbol.js';

export { livepatchSectionProblems } from './apply-conversion.js';
export type {
  ConversionReason,
  ConvertContext,
  ConvertedSymbol,
  ConvertReport,
  KlpSectionReport,
} from './convert-types.js';

function checkShape(elf: ElfFile, file: string): void {
  if (elf.partial) throw new ConvertError(`${file}: only the symbol table was read; cannot convert`);
  if (elf.header.type !== ET_REL) {
    throw new ConvertError(`${file}: not a relocatable object (e_type ${elf.header.type})`, {
      hint: 'give the .ko that kbuild built',
    });
  }
  if (elf.header.machine !== EM_X86_64) {
    throw new ConvertError(
      `${file}: e_machine ${elf.header.machine} is not x86_64; klp-convert supports x86_64 only`,
      {
        hint: 'other architectures encode relocation sites in instructions; their conversion is not implemented',
      },
    );
  }
  if (!elf.symtab)
    throw new ConvertError(`${file}: no symbol table`, {
      hint: 'do not strip the module before converting it',
    });
  if (modinfoValue(elf, 'livepatch') === undefined) {
    throw new ConvertError(
      `${file}: .modinfo has no livepatch= entry, so the kernel would not treat it as a livepatch`,
      {
        hint: 'add MODULE_INFO(livepatch, "Y"); to the module source',
      },
    );
  }
}

/** True when the symbol needs a decision: it is declared, or used by an allocated section. */
const needsDecision = (declaration: SymposDeclaration | undefined, uses: SymbolUses | undefined) =>
  declaration !== undefined || (uses?.alloc.length ?? 0) > 0;

interface Resolution {
  plans: Plan[];
  exportsKept: string[];
  unresolved: string[];
  warnings: string[];
  problems: string[];
}

/** Decides every undefined symbol that needs it, sorting the outcomes. */
function resolveSymbols(
  elf: ElfFile,
  lookup: SymbolLookup,
  declared: ReadonlyMap<ElfSymbol, SymposDeclaration>,
  uses: ReadonlyMap<ElfSymbol, SymbolUses>,
): Resolution {
  const out: Resolution = { plans: [], exportsKept: [], unresolved: [], warnings: [], problems: [] };
  for (const symbol of elf.symbols) {
    if (!isUndefined(symbol)) continue;
    const declaration = declared.get(symbol);
    const symbolUses = uses.get(symbol);
    if (!needsDecision(declaration, symbolUses)) continue;
    const decision = resolveSymbol(lookup, symbol, declaration, symbolUses);
    switch (decision.kind) {
      case 'problem':
        out.problems.push(decision.text);
        break;
      case 'export':
        out.exportsKept.push(symbol.name);
        break;
      case 'unresolved':
        out.unresolved.push(symbol.name);
        out.warnings.push(leftUnresolved(symbol));
        break;
      case 'convert': {
        const nameProblem = objectNameProblem(decision.object) ?? symbolNameProblem(symbol.name);
        if (nameProblem) {
          out.problems.push(unwritableName(symbol.name, nameProblem));
          break;
        }
        out.plans.push({
          symbol,
          name: symbol.name,
          object: decision.object,
          sympos: decision.sympos,
          reason: decision.reason,
          candidates: decision.candidates,
          declaredAt: declaration?.where,
        });
      }
    }
  }
  return out;
}

/**
 * Turns a kbuild-built livepatch module into one the kernel's livepatch loader can resolve: references to
 * symbols the module loader cannot resolve become `.klp.rela.<obj>.<section>` relocations against
 * `.klp.sym.<obj>.<name>,<sympos>` symbols. Edits `elf` in place; throws ConvertError listing every
 * problem (ambiguous or missing symbols, names the kernel cannot parse) before changing anything.
 */
export function convertElf(elf: ElfFile, context: ConvertContext = {}): ConvertReport {
  const file = elf.file ?? 'module';
  checkShape(elf, file);
  const declarations = checkDeclarations(elf);
  const uses = collectUses(elf);
  // The KLP_MODULE_RELOC arrays' own relocations do not count as uses.
  for (const section of declarations.sections) {
    for (const entry of uses.values()) entry.alloc = entry.alloc.filter((u) => u.target !== section);
  }
  const lookup = symbolLookup(context);
  const resolved = resolveSymbols(elf, lookup, declarations.declared, uses);
  const problems = [
    ...declarations.problems,
    ...resolved.problems,
    ...checkRelocationSites(elf, resolved.plans, uses),
  ];
  if (problems.length > 0)
    throw new ConvertError(cannotConvert(file, problems), { hint: CANNOT_CONVERT_HINT });
  const { exportsKept, unresolved, warnings } = resolved;
  return applyPlans(elf, resolved.plans, uses, declarations.sections, {
    exportsKept,
    unresolved,
    warnings,
    stillNeeded: new Set(
      [...exportsKept, ...unresolved]
        .map((n) => exportOwner(lookup, n))
        .filter((o): o is string => o !== undefined),
    ),
  });
}
