import { keyLivesInModule } from './module-keys.js';
import type { SpecialTable } from './types.js';

/** Offset of the key in `struct jump_entry` (code and target are 32-bit relative before it). */
const KEY_OFFSET = 8;

/** Jump labels (static branches): code site, target and static key. */
export const JUMP_TABLE: SpecialTable = {
  name: '__jump_table',
  layout: { kind: 'struct', sizeName: 'JUMP_STRUCT_SIZE' },
  check: (entry, context) => {
    const key = keyLivesInModule(entry, KEY_OFFSET, context);
    if (!key) return undefined;
    return {
      kind: 'module-static-key',
      object: entry.object.path,
      where: key,
      message: `a changed function uses the jump label (static branch) of key ${key}, which lives in module ${context.parent}`,
      hint: `livepatch modules cannot patch jump labels of another module: test the key with static_key_enabled(&${key}) instead of static_branch_*() / static_key_*() in the patched code`,
    };
  },
};
