import { keyLivesInModule } from './module-keys.js';
import type { SpecialTable } from './types.js';

/** Offset of the key in `struct static_call_site` (after the 32-bit relative address). */
const KEY_OFFSET = 4;

/** Inline static call sites: call instruction and static call key. */
export const STATIC_CALL_SITES: SpecialTable = {
  name: '.static_call_sites',
  layout: { kind: 'struct', sizeName: 'STATIC_CALL_STRUCT_SIZE', fallback: 8 },
  check: (entry, context) => {
    const key = keyLivesInModule(entry, KEY_OFFSET, context);
    if (!key) return undefined;
    return {
      kind: 'module-static-call',
      object: entry.object.path,
      where: key,
      message: `a changed function makes a static call through key ${key}, which lives in module ${context.parent}`,
      hint: 'livepatch modules cannot patch static calls of another module: call the target function directly (or through its ops pointer) in the patched code instead of static_call()',
    };
  },
};
