import { STT_FILE, STT_SECTION } from '../elf/index.js';
import type { DiffObject } from './model.js';

/**
 * Gives every defined symbol of the patched object its status. A symbol alone in its section takes the
 * section's; one sharing a changed section (no -ffunction-sections) is taken as changed. A changed
 * `.cold`/`.part` piece makes its parent changed: the parent is what livepatch redirects.
 */
export function markChangedSymbols(patched: DiffObject): void {
  for (const s of patched.symbols) {
    if (s.symbol.type === STT_FILE || !s.section) continue;
    if (s.specialStatic) s.status = 'new';
    else if (s.symbol.type === STT_SECTION) s.status = s.section.status;
    else if (!s.twin) s.status = 'new';
    else s.status = s.section.status === 'same' ? 'same' : 'changed';
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
