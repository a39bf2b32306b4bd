import type { SpecialTable } from './types.js';

/** Only `import_ns=` lines matter to a livepatch: it must import the namespaces the new code uses. */
export const MODINFO: SpecialTable = {
  name: '.modinfo',
  layout: { kind: 'strings', keep: (entry) => entry.startsWith('import_ns=') },
};
