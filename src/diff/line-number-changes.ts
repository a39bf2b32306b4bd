import type { Relocation } from '../elf/index.js';
import type { DiffObject } from './model.js';

/** Functions that take `__LINE__` as an argument: a moved line changes only that immediate. */
const LINE_TAKING_FUNCTIONS = new Set([
  '__warn_printk',
  'warn_slowpath_fmt',
  'warn_slowpath_null',
  '__might_sleep',
  '___might_sleep',
  '__might_resched',
  '__might_fault',
  '__cant_sleep',
  '__cant_migrate',
  'printk',
  '_printk',
  'lockdep_rcu_suspicious',
  '__kcsan_check_access',
  '__btrfs_abort_transaction',
  '__btrfs_handle_fs_error',
  '__btrfs_std_error',
]);

/** How far (bytes) after the immediate the call taking it may be: argument set-up in between. */
const CALL_WINDOW = 64n;

/** Byte ranges [start, end) where two equally long buffers differ. */
function differingRuns(a: Buffer, b: Buffer): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let i = 0;
  while (i < a.length) {
    if (a[i] === b[i]) {
      i++;
      continue;
    }
    const start = i;
    while (i < a.length && a[i] !== b[i]) i++;
    runs.push([start, i]);
  }
  return runs;
}

/**
 * Where the 32-bit immediate of a `mov $imm32, %reg` holding the bytes [start, end) begins, or -1.
 * Encodings: B8+r id (optionally REX.B 41), C7 /0 id with a register operand (optionally REX 48/49).
 */
function movImmediateStart(code: Buffer, start: number, end: number): number {
  for (let immediate = Math.max(1, end - 4); immediate <= start; immediate++) {
    const op = code[immediate - 1] ?? 0;
    if (op >= 0xb8 && op <= 0xbf) return immediate;
    const modrm = op;
    const opcode = code[immediate - 2] ?? 0;
    if (opcode === 0xc7 && modrm >= 0xc0 && modrm <= 0xc7) return immediate;
  }
  return -1;
}

/**
 * True when two code sections differ only in immediates that are line numbers passed to WARN, BUG,
 * printk, might_sleep and the like: such a change moves source lines, it does not change behaviour.
 */
export function onlyLineNumbersDiffer(
  origCode: Buffer,
  patchedCode: Buffer,
  patchedRelocations: readonly Relocation[],
  patched: DiffObject,
): boolean {
  if (origCode.length !== patchedCode.length) return false;
  const runs = differingRuns(origCode, patchedCode);
  if (runs.length === 0) return false;
  const calls = patchedRelocations.filter((r) => {
    const name = r.symbol ? patched.symbolOf.get(r.symbol)?.symbol.name : undefined;
    return name !== undefined && LINE_TAKING_FUNCTIONS.has(name);
  });
  return runs.every(([start, end]) => {
    if (end - start > 4) return false;
    const immediate = movImmediateStart(patchedCode, start, end);
    if (immediate < 0 || immediate + 4 < end) return false;
    const after = BigInt(immediate + 4);
    return calls.some((c) => c.offset >= after && c.offset < after + CALL_WINDOW);
  });
}
