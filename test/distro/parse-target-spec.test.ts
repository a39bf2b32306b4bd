import { describe, expect, it } from 'vitest';
import { parseTargetSpec } from '../../src/distro/parse-target-spec.js';
import { UsageError } from '../../src/errors.js';

describe('parseTargetSpec', () => {
  it.each([
    ['test', { kind: 'test' }],
    ['debian:latest', { kind: 'debian', release: 'latest' }],
    ['debian:6.1.0-56-amd64', { kind: 'debian', release: '6.1.0-56-amd64' }],
  ])('reads %s', (text, spec) => {
    expect(parseTargetSpec(text)).toEqual(spec);
  });

  it.each(['', 'debian', 'debian:', 'fedora:40', 'debian:6.1:x', 'debian:../../etc'])(
    'refuses %j',
    (text) => {
      expect(() => parseTargetSpec(text)).toThrow(UsageError);
    },
  );
});
