import { STB_LOCAL, STT_FUNC } from '../elf/index.js';
import { callsFentry } from './fentry.js';
import type { DiffObject, DiffSymbol } from './model.js';
import type { Refusal } from './refusals.js';
import { isNotCompared } from './special-sections/index.js';
import { isInitOrExitSection, isTextSection } from './symbol-names.js';
import { kernelName } from './write-output.js';

/** A changed function ftrace cannot redirect, and the callers patched in its place. */
export interface UntracedRedirect {
  function: string;
  callers: string[];
}

function isUntracedChange(object: DiffObject, s: DiffSymbol): boolean {
  const section = s.section;
  return (
    s.symbol.type === STT_FUNC &&
    s.status === 'changed' &&
    !s.parent &&
    section?.bundled === s &&
    !isInitOrExitSection(section.section) &&
    !callsFentry(object, s)
  );
}

/** Where the function is used: the functions calling it, and whether its address is stored anywhere. */
function usesOf(object: DiffObject, fn: DiffSymbol): { callers: Set<DiffSymbol>; stored: string[] } {
  const callers = new Set<DiffSymbol>();
  const stored: string[] = [];
  for (const section of object.sections) {
    if (section === fn.section) continue;
    if (!section.relocations.some((r) => r.symbol && object.symbolOf.get(r.symbol) === fn)) continue;
    const name = section.section.name;
    // Special tables (ORC, bug table, ...) point into the function; they are not uses. Init code has run.
    if (isNotCompared(name) || isInitOrExitSection(section.section)) continue;
    const owner = section.bundled;
    if (!isTextSection(section.section) || !owner)
      stored.push(owner ? `${owner.symbol.name} (${name})` : name);
    else callers.add(owner.parent ?? owner);
  }
  return { callers, stored };
}

/**
 * ftrace redirects a function through its `call __fentry__`; a `notrace` function has none. The usual
 * case is SYSCALL_DEFINE's `__do_sys_<name>`, declared `static inline` (hence notrace) and kept out of
 * line by the compiler: kpatch-build refuses a change to it. Instead, the changed copy is carried
 * unpatched and every function of the object that calls it is patched (callers that cannot be traced
 * either are handled the same way, up the call chain), so every call reaches the new copy.
 * Refused when that cannot cover every use: a global function (callers elsewhere) or a stored address.
 */
export function patchTraceableCallers(object: DiffObject): {
  redirects: UntracedRedirect[];
  refusals: Refusal[];
} {
  const redirects: UntracedRedirect[] = [];
  const refusals: Refusal[] = [];
  const queue = object.symbols.filter((s) => isUntracedChange(object, s));
  const seen = new Set(queue);
  for (let fn = queue.shift(); fn; fn = queue.shift()) {
    const name = kernelName(fn);
    const { callers, stored } = usesOf(object, fn);
    callers.delete(fn);
    if (fn.symbol.bind !== STB_LOCAL) {
      refusals.push({
        kind: 'no-fentry',
        object: object.path,
        where: name,
        message: `${name}() changed but has no call to __fentry__, and is global: callers in other objects cannot be found`,
        hint: 'make the change in a traceable function (one without notrace/inline), or in the callers',
      });
      continue;
    }
    if (stored.length > 0) {
      refusals.push({
        kind: 'no-fentry',
        object: object.path,
        where: name,
        message: `${name}() changed but has no call to __fentry__, and its address is stored in ${stored.join(', ')}: calls through it would reach the old copy`,
        hint: 'make the change in a traceable function, or patch the code that calls through that pointer',
      });
      continue;
    }
    // No caller at all: verifyPatchability refuses it as untraceable.
    if (callers.size === 0) continue;
    fn.untraced = true;
    for (const caller of callers) {
      if (caller.status === 'new') continue;
      if (caller.status === 'same') {
        caller.status = 'changed';
        if (caller.twin) caller.twin.status = 'changed';
      }
      if (!seen.has(caller) && isUntracedChange(object, caller)) {
        seen.add(caller);
        queue.push(caller);
      }
    }
    redirects.push({ function: name, callers: [...callers].map(kernelName).sort() });
  }
  return { redirects, refusals };
}
