import { detectDistro } from '../distro/detect-distro.js';
import { cacheRoot } from '../source/cache-dir.js';
import { cleanCache } from '../source/clean-cache.js';

/** kpatch-build --clean-cache [--distro NAME] [-a RELEASE]: says what it removed. */
export async function cleanCacheCommand(distro: string | undefined, release: string | undefined) {
  const id = detectDistro(distro);
  const cache = cacheRoot();
  const removed = await cleanCache(cache, id, release);
  const what = release === undefined ? `${id}` : `${id} ${release}`;
  if (removed.length === 0) process.stderr.write(`kpatch-build: nothing cached for ${what} in ${cache}\n`);
  for (const r of removed) process.stderr.write(`kpatch-build: removed ${cache}/targets/${id}/${r}\n`);
  return 0;
}
