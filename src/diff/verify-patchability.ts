import {
  R_X86_64_32,
  R_X86_64_32S,
  R_X86_64_64,
  R_X86_64_NONE,
  R_X86_64_PC32,
  R_X86_64_PC64,
  R_X86_64_PLT32,
  relocationTypeName,
  SHF_WRITE,
  STT_FUNC,
  STT_OBJECT,
} from '../elf/index.js';
import { callsFentry } from './fentry.js';
import type { DiffObject, DiffSection, DiffSymbol } from './model.js';
import type { Refusal } from './refusals.js';
import { onlyLayoutChanged } from './shared-section-functions.js';
import { isNotCompared } from './special-sections/index.js';
import { isInitOrExitSection, isTextSection } from './symbol-names.js';

/** Relocation types the kernel's module loader applies on x86_64. */
const LOADABLE_RELOCATIONS = new Set([
  R_X86_64_NONE,
  R_X86_64_64,
  R_X86_64_PC32,
  R_X86_64_PLT32,
  R_X86_64_32,
  R_X86_64_32S,
  R_X86_64_PC64,
]);

function dataRefusals(patched: DiffObject): Refusal[] {
  const refusals: Refusal[] = [];
  for (const s of patched.symbols) {
    if (s.symbol.type !== STT_OBJECT || !s.twin || s.specialStatic || !s.section) continue;
    if (isInitOrExitSection(s.section.section)) continue;
    const name = s.twin.symbol.name;
    if (s.symbol.size !== s.twin.symbol.size) {
      refusals.push({
        kind: 'data-size-changed',
        object: patched.path,
        where: name,
        message: `the size of ${name} changed from ${s.twin.symbol.size} to ${s.symbol.size} bytes`,
        hint: 'a livepatch cannot change the layout of existing data (a struct or array): keep the layout and put new fields in a shadow variable (klp_shadow_*)',
      });
    } else if (s.status === 'changed') {
      refusals.push({
        kind: 'changed-data',
        object: patched.path,
        where: name,
        message: `the initial value of ${name} (${s.section.section.name}) changed: ${s.section.difference ?? 'contents changed'}`,
        hint: 'existing data keeps its running value; change it at patch time from a pre-patch callback, or keep new state in a shadow variable',
      });
    }
  }
  return refusals;
}

function sectionRefusals(patched: DiffObject): Refusal[] {
  const refusals: Refusal[] = [];
  for (const section of patched.sections) {
    const name = section.section.name;
    if (section.status === 'same' || isNotCompared(name)) continue;
    if (
      isInitOrExitSection(section.section) &&
      (section.status === 'changed' || isTextSection(section.section))
    ) {
      refusals.push({
        kind: 'init-exit-code',
        object: patched.path,
        where: name,
        message: `${name} ${section.status === 'new' ? 'is new' : 'changed'}: __init/__exit code and data cannot be livepatched`,
        hint: 'init code has already run and exit code never runs in a livepatch; do the work from a livepatch callback, or change only the runtime path',
      });
      continue;
    }
    if (section.grouped && section.include) {
      refusals.push({
        kind: 'grouped-section',
        object: patched.path,
        where: name,
        message: `${name} is in a section group (comdat) and ${section.status === 'new' ? 'is new' : 'changed'}`,
        hint: 'group sections are shared between objects at link time; move the changed code out of the inline/comdat definition',
      });
    }
    if (section.status !== 'changed' || section.include || section.bundled) continue;
    if (isTextSection(section.section) && onlyLayoutChanged(patched, section)) continue;
    if (
      isTextSection(section.section) ||
      ((section.section.flags & SHF_WRITE) !== 0 && hasObjects(patched, section))
    ) {
      refusals.push({
        kind: 'no-function-sections',
        object: patched.path,
        where: name,
        message: `${name} changed but holds several functions or objects, so the change cannot be narrowed to one`,
        hint: 'compile with -ffunction-sections -fdata-sections (kpatch-build does); code in special sections such as .noinstr.text cannot be patched',
      });
    }
  }
  return refusals;
}

function hasObjects(object: DiffObject, section: DiffSection): boolean {
  return object.symbols.some((s) => s.section === section && s.symbol.type === STT_OBJECT);
}

function functionRefusals(patched: DiffObject, chosen: readonly DiffSymbol[]): Refusal[] {
  const refusals: Refusal[] = [];
  for (const fn of chosen) {
    const name = fn.twin?.symbol.name ?? fn.symbol.name;
    const section = fn.section;
    if (!section || isInitOrExitSection(section.section)) continue;
    if (section.bundled !== fn) {
      refusals.push({
        kind: 'no-function-sections',
        object: patched.path,
        where: name,
        message: `${name}() changed but shares ${section.section.name} with other code`,
        hint: 'compile with -ffunction-sections (kpatch-build does); functions placed in special sections (noinstr, __sched, __kprobes, ...) cannot be patched',
      });
    } else if (fn.status === 'changed' && !fn.parent && !fn.untraced && !callsFentry(patched, fn)) {
      refusals.push({
        kind: 'no-fentry',
        object: patched.path,
        where: name,
        message: `${name}() changed but has no call to __fentry__, so ftrace cannot redirect it`,
        hint: 'notrace functions (and code built without -pg -mfentry) cannot be livepatched, and no caller in this object could be patched instead: change a traceable caller',
      });
    }
  }
  return refusals;
}

function relocationRefusals(patched: DiffObject): Refusal[] {
  const refusals: Refusal[] = [];
  const machine = patched.elf.header.machine;
  for (const section of patched.sections) {
    if (!section.include) continue;
    for (const r of section.relocations) {
      if (LOADABLE_RELOCATIONS.has(r.type)) continue;
      refusals.push({
        kind: 'relocation-type',
        object: patched.path,
        where: `${section.section.name}+0x${r.offset.toString(16)}`,
        message: `${section.section.name}+0x${r.offset.toString(16)} uses relocation ${relocationTypeName(machine, r.type)}, which the module loader does not apply`,
        hint: 'build with the kernel flags (-mcmodel=kernel -fno-pic); PIC/GOT relocations cannot be used in a livepatch',
      });
    }
  }
  return refusals;
}

/** Everything about the chosen change that cannot become a working livepatch. */
export function verifyPatchability(patched: DiffObject, chosen: readonly DiffSymbol[]): Refusal[] {
  const functionsOnly = chosen.filter((s) => s.symbol.type === STT_FUNC);
  return [
    ...dataRefusals(patched),
    ...sectionRefusals(patched),
    ...functionRefusals(patched, functionsOnly),
    ...relocationRefusals(patched),
  ];
}
