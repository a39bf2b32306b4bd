import { homedir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cachePath, cacheRoot } from '../../src/source/cache-dir.js';

describe('cacheRoot', () => {
  it.each([
    [{ CACHEDIR: '/srv/kpatch', XDG_CACHE_HOME: '/x', HOME: '/home/u' }, '/srv/kpatch'],
    [{ XDG_CACHE_HOME: '/var/cache/u', HOME: '/home/u' }, '/var/cache/u/kpatch-build'],
    [{ XDG_CACHE_HOME: 'relative/ignored', HOME: '/home/u' }, '/home/u/.cache/kpatch-build'],
    [{ CACHEDIR: '', HOME: '/home/u' }, '/home/u/.cache/kpatch-build'],
    [{}, `${homedir()}/.cache/kpatch-build`],
  ])('%j → %s', (env, expected) => {
    expect(cacheRoot(env)).toBe(expected);
  });

  it('cachePath joins below the root', () => {
    expect(cachePath('debs', 'x.deb')).toBe(`${cacheRoot()}/debs/x.deb`);
  });
});
