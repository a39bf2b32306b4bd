import { describe, expect, it } from 'vitest';
import { reproducibleKcflags } from '../../src/module/reproducible-build.js';

describe('reproducibleKcflags', () => {
  it.each([
    [{}, 'KCFLAGS=-ffile-prefix-map=/tmp/kpatch-build-x/module=.'],
    [{ KCFLAGS: ' -g1 ' }, 'KCFLAGS=-g1 -ffile-prefix-map=/tmp/kpatch-build-x/module=.'],
  ])('maps the module directory, keeping the user KCFLAGS %j', (env, expected) => {
    expect(reproducibleKcflags('/tmp/kpatch-build-x/module', env)).toBe(expected);
  });
});
