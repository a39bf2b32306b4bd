/**
 * Where downloaded packages and unpacked trees live. `$CACHEDIR` is the variable kpatch-build has always
 * honoured; otherwise the XDG base-directory spec applies.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CACHEDIR) return resolve(env.CACHEDIR);
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'kpatch-build');
  return join(env.HOME || homedir(), '.cache', 'kpatch-build');
}

/** A path inside the cache root, e.g. cachePath('debs') → ~/.cache/kpatch-build/debs. */
export function cachePath(...parts: string[]): string {
  return join(cacheRoot(), ...parts);
}
