import type { ErrorCode } from '../errors.js';
import { InterruptedError, isKpatchError } from '../errors.js';

/**
 * The only place exit codes are decided. 0–3 follow kpatch's create-diff-object
 * (0 changes, 1 error, 2 unsupported change, 3 no functional change); the rest are ours.
 */
export const EXIT_OK = 0;

const EXIT_BY_CODE: Record<ErrorCode, number> = {
  internal: 1,
  'elf-format': 1,
  convert: 1,
  build: 1,
  source: 1,
  'unsupported-change': 2,
  'no-change': 3,
  usage: 64,
  patch: 65,
  distro: 66,
  download: 69,
  checksum: 69,
  lock: 75,
  verify: 70,
  'verify-failed': 4,
  'batch-incomplete': 5,
  interrupted: 130,
};

/** Stopped by SIGTERM: 128 + 15, as a shell reports a process the signal ended (SIGINT's is the 130 above). */
const EXIT_SIGTERM = 143;

const isStoppedBySigterm = (error: unknown) =>
  error instanceof InterruptedError && error.signal === 'SIGTERM';

export function exitCodeFor(error: unknown): number {
  if (isStoppedBySigterm(error)) return EXIT_SIGTERM;
  if (isKpatchError(error)) return EXIT_BY_CODE[error.code];
  return EXIT_BY_CODE.internal;
}

/** For docs and tests: the full table. */
export function exitCodeTable(): ReadonlyArray<readonly [ErrorCode, number]> {
  return Object.entries(EXIT_BY_CODE) as Array<[ErrorCode, number]>;
}
