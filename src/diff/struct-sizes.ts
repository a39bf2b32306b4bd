import { UsageError } from '../errors.js';

/** The names kpatch's create-diff-object reads from its environment, kept for compatibility. */
export const STRUCT_SIZE_NAMES = [
  'ALT_STRUCT_SIZE',
  'BUG_STRUCT_SIZE',
  'EX_STRUCT_SIZE',
  'JUMP_STRUCT_SIZE',
  'PARA_STRUCT_SIZE',
  'ORC_STRUCT_SIZE',
  'STATIC_CALL_STRUCT_SIZE',
  'PRINTK_INDEX_STRUCT_SIZE',
] as const;

export type StructSizeName = (typeof STRUCT_SIZE_NAMES)[number];

/** Entry sizes of the special sections of one kernel; a missing one is looked up when needed. */
export type StructSizes = Partial<Record<StructSizeName, number>>;

function isStructSizeName(name: string): name is StructSizeName {
  return (STRUCT_SIZE_NAMES as readonly string[]).includes(name);
}

function parseSize(name: string, text: string, from: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0 || value > 4096) {
    throw new UsageError(`${from}: ${name}=${text} is not a positive entry size in bytes`);
  }
  return value;
}

/** Sizes set in the environment (ALT_STRUCT_SIZE=12 ...); empty values are ignored. */
export function structSizesFromEnv(env: NodeJS.ProcessEnv = process.env): StructSizes {
  const sizes: StructSizes = {};
  for (const name of STRUCT_SIZE_NAMES) {
    const text = env[name];
    if (text !== undefined && text !== '') sizes[name] = parseSize(name, text, 'environment');
  }
  return sizes;
}

/** Sizes given as `NAME=N` (the --struct-size flag). */
export function parseStructSizeAssignments(assignments: readonly string[]): StructSizes {
  const sizes: StructSizes = {};
  for (const assignment of assignments) {
    const [name = '', text = ''] = assignment.split('=', 2);
    if (!isStructSizeName(name)) {
      throw new UsageError(`--struct-size ${assignment}: unknown name`, {
        hint: `use one of ${STRUCT_SIZE_NAMES.join(', ')}`,
      });
    }
    sizes[name] = parseSize(name, text, '--struct-size');
  }
  return sizes;
}
