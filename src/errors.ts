/**
 * The one error hierarchy of kpatch-build. Every failure a user can cause or meet is a KpatchError
 * subclass carrying a stable `code`; src/cli/exit-codes.ts maps codes to process exit codes.
 * Messages name the file, object, section or symbol involved; `hint` says what to do about it.
 */
export type ErrorCode =
  | 'usage'
  | 'elf-format'
  | 'download'
  | 'checksum'
  | 'distro'
  | 'source'
  | 'lock'
  | 'build'
  | 'patch'
  | 'no-change'
  | 'unsupported-change'
  | 'convert'
  | 'verify'
  | 'verify-failed'
  | 'batch-incomplete'
  | 'interrupted'
  | 'internal';

export interface KpatchErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Where a log with details was kept, if any. */
  logPath?: string;
}

export class KpatchError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  logPath: string | undefined;

  constructor(code: ErrorCode, message: string, options: KpatchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.logPath = options.logPath;
  }
}

export class UsageError extends KpatchError {
  constructor(message: string, options?: KpatchErrorOptions) {
    super('usage', message, options);
  }
}

/** Malformed or unsupported ELF input. `offset` is the file offset involved, when known. */
export class ElfFormatError extends KpatchError {
  readonly file: string | undefined;
  readonly offset: number | undefined;
  constructor(message: string, options: KpatchErrorOptions & { file?: string; offset?: number } = {}) {
    const where = options.file ? `${options.file}: ` : '';
    const at = options.offset === undefined ? '' : ` (at file offset 0x${options.offset.toString(16)})`;
    super('elf-format', `${where}${message}${at}`, options);
    this.file = options.file;
    this.offset = options.offset;
  }
}

export class DownloadError extends KpatchError {
  readonly url: string;
  constructor(url: string, message: string, options?: KpatchErrorOptions) {
    super('download', `${message} (${url})`, options);
    this.url = url;
  }
}

export class ChecksumError extends KpatchError {
  constructor(file: string, expected: string, actual: string, options?: KpatchErrorOptions) {
    super('checksum', `${file}: SHA256 mismatch: expected ${expected}, got ${actual}`, {
      hint: 'the partial download was removed; run again to fetch it afresh',
      ...options,
    });
  }
}

export class DistroError extends KpatchError {
  constructor(message: string, options?: KpatchErrorOptions) {
    super('distro', message, options);
  }
}

export class SourceError extends KpatchError {
  constructor(message: string, options?: KpatchErrorOptions) {
    super('source', message, options);
  }
}

export class LockError extends KpatchError {
  constructor(message: string, options?: KpatchErrorOptions) {
    super('lock', message, options);
  }
}

export class BuildError extends KpatchError {
  constructor(message: string, options?: KpatchErrorOptions) {
    super('build', message, options);
  }
}

export class PatchError extends KpatchError {
  constructor(message: string, options?: KpatchErrorOptions) {
    super('patch', message, options);
  }
}

export class NoChangeError extends KpatchError {
  constructor(message: string, options?: KpatchErrorOptions) {
    super('no-change', message, options);
  }
}

export class UnsupportedChangeError extends KpatchError {
  constructor(message: string, options?: KpatchErrorOptions) {
    super('unsupported-change', message, options);
  }
}

export class ConvertError extends KpatchError {
  constructor(message: string, options?: KpatchErrorOptions) {
    super('convert', message, options);
  }
}

/** The verifier itself could not run (no qemu, bad image, timeout). */
export class VerifyError extends KpatchError {
  constructor(message: string, options?: KpatchErrorOptions) {
    super('verify', message, options);
  }
}

/** The verifier ran and a step did not hold. */
export class VerifyFailedError extends KpatchError {
  constructor(message: string, options?: KpatchErrorOptions) {
    super('verify-failed', message, options);
  }
}

/** A batch (-a repeated, -a all) ended and some of its releases were not built; the verdict table says why. */
export class BatchIncompleteError extends KpatchError {
  constructor(message: string, options?: KpatchErrorOptions) {
    super('batch-incomplete', message, options);
  }
}

export class InterruptedError extends KpatchError {
  /** The signal that stopped the run, e.g. 'SIGINT' or 'SIGTERM' (its exit code follows it). */
  readonly signal: string;
  constructor(signal: string) {
    super('interrupted', `interrupted by ${signal}`);
    this.signal = signal;
  }
}

export function isKpatchError(error: unknown): error is KpatchError {
  return error instanceof KpatchError;
}
