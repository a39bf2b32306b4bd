import { describe, expect, it } from 'vitest';
import { exitCodeFor, exitCodeTable } from '../../src/cli/exit-codes.js';
import {
  InterruptedError,
  NoChangeError,
  UnsupportedChangeError,
  UsageError,
  VerifyFailedError,
} from '../../src/errors.js';

describe('exitCodeFor', () => {
  it.each([
    [new NoChangeError('x'), 3],
    [new UnsupportedChangeError('x'), 2],
    [new UsageError('x'), 64],
    [new VerifyFailedError('x'), 4],
    [new InterruptedError('SIGINT'), 130],
    [new InterruptedError('SIGTERM'), 143],
    [new Error('plain'), 1],
    ['not even an error', 1],
  ])('maps %s to %i', (error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  it('gives every error code a distinct meaning except the documented shared ones', () => {
    const codes = exitCodeTable();
    const byExit = new Map<number, string[]>();
    for (const [code, exit] of codes) byExit.set(exit, [...(byExit.get(exit) ?? []), code]);
    // 1 is the generic failure; download and checksum are both "the download failed".
    for (const [exit, names] of byExit) {
      if (exit === 1 || exit === 69) continue;
      expect(names, `exit ${exit}`).toHaveLength(1);
    }
  });
});
