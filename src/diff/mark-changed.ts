import { STT_FILE, STT_FUNC, STT_SECTION } from '../elf/index.js';
import type { DiffObject, DiffSymbol } from './model.js';
import { sharedFunctionDiffers } from './shared-section-functions.js';

/** A function in a changed section it shares with others: compared on its own. */
const isSharedFunction = (s: DiffSymbol) =>
  s.symbol.type === STT_FUNC && s.section !== undefined && s.section.bundled !== s && s.twin !== undefined;

/**
 * Gives every defined symbol of the patched object its status. A symbol alone in its section takes the
 * section's; a function sharing a changed section (no -ffunction-sections, or `__sched` code) is
 * compared on its own (shared-section-functions.ts); other symbols there are taken as changed. A changed
 * `.cold`/`.part` piece makes its parent changed: the parent is what livepatch redirects.
 */
export function markChangedSymbols(orig: DiffObject, patched: DiffObject): void {
  for (const s of patched.symbols) {
    if (s.symbol.type === STT_FILE || !s.section) continue;
    if (s.specialStatic) s.status = 'new';
    else if (s.symbol.type === STT_SECTION) s.status = s.section.status;
    else if (!s.twin) s.status = 'new';
    else if (s.section.status === 'same') s.status = 'same';
    else if (isSharedFunction(s) && s.section.status === 'changed')
      s.status = sharedFunctionDiffers(orig, s.twin!, patched, s) ? 'changed' : 'same';
    else s.status = 'changed';
    if (s.twin) s.twin.status = s.status;
  }
  let again = true;
  while (again) {
    again = false;
    for (const s of patched.symbols) {
      if (s.status === 'same' || !s.parent || s.parent.status !== 'same') continue;
      s.parent.status = 'changed';
      again = true;
    }
  }
}
