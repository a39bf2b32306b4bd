import { readSync } from 'node:fs';
import { ElfFormatError } from '../errors.js';

/**
 * Random access to the input bytes. Every range is checked against the length before anything is
 * read or allocated, so a lying header cannot make the reader allocate or run past the end.
 */
export interface ByteSource {
  readonly file: string | undefined;
  readonly length: number;
  /** The whole input, when it is in memory. */
  readonly buffer: Buffer | undefined;
  /** `length` bytes at `offset`; `what` names the structure for the error message. */
  bytes(offset: number, length: number, what: string): Buffer;
}

export function formatError(file: string | undefined, message: string, offset?: number): ElfFormatError {
  return new ElfFormatError(message, offset === undefined ? { file } : { file, offset });
}

function checkRange(source: ByteSource, offset: number, length: number, what: string): void {
  if (offset < 0 || length < 0 || offset > source.length || length > source.length - offset) {
    throw formatError(
      source.file,
      `${what} (offset 0x${offset.toString(16)}, size 0x${length.toString(16)}) extends past the end of the file (size 0x${source.length.toString(16)}); file truncated or offset out of range`,
    );
  }
}

/** Views into an in-memory file; no copies. */
export function bufferSource(buffer: Buffer, file: string | undefined): ByteSource {
  return {
    file,
    length: buffer.length,
    buffer,
    bytes(offset, length, what) {
      checkRange(this, offset, length, what);
      return buffer.subarray(offset, offset + length);
    },
  };
}

/** Reads pieces of an open file, for callers that need only headers and symbols of a huge file. */
export function fileDescriptorSource(fd: number, length: number, file: string | undefined): ByteSource {
  return {
    file,
    length,
    buffer: undefined,
    bytes(offset, size, what) {
      checkRange(this, offset, size, what);
      const out = Buffer.allocUnsafe(size);
      let done = 0;
      while (done < size) {
        const n = readSync(fd, out, done, size - done, offset + done);
        if (n === 0) throw formatError(file, `${what}: file shrank while reading`, offset + done);
        done += n;
      }
      return out;
    },
  };
}

/** A u64 that must fit a JavaScript number (file offsets, sizes); `what` names it for the error. */
export function readU64AsNumber(
  buf: Buffer,
  at: number,
  what: string,
  file: string | undefined,
  fileOffset: number,
) {
  const low = buf.readUInt32LE(at);
  const high = buf.readUInt32LE(at + 4);
  if (high >= 0x200000) {
    throw formatError(file, `${what} 0x${buf.readBigUInt64LE(at).toString(16)} is out of range`, fileOffset);
  }
  return high * 0x100000000 + low;
}
