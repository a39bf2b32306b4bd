/**
 * Patches a livepatch can never come from, refused before anything is fetched or built: renames and
 * copies (a livepatch replaces functions of the running objects; a file moved in the tree changes which
 * object a function belongs to, and kbuild has no record of the new name), and patches that touch no
 * file any object is compiled from (documentation, scripts, tools).
 */
import { basename, posix } from 'node:path';
import { NoChangeError, UnsupportedChangeError } from '../errors.js';
import type { PatchDescription } from './describe-patch.js';

/** Files the compiler or kbuild reads when building objects: sources, headers, linker scripts, makefiles. */
const COMPILED_EXTENSIONS = new Set(['.c', '.h', '.S', '.s', '.lds', '.inc', '.asm', '.y', '.l', '.tbl']);
const BUILD_FILES = /^(Makefile.*|Kbuild.*|Kconfig.*|.*\.mk)$/;
/** Top-level directories no kernel object is compiled from. */
const NEVER_COMPILED_DIRS = new Set(['Documentation', 'LICENSES']);

/** True if changing `path` (relative to the tree) may change a compiled object. */
export function mayChangeObjects(path: string): boolean {
  const top = path.split('/')[0] ?? '';
  if (NEVER_COMPILED_DIRS.has(top) && path.includes('/')) return false;
  const name = basename(path);
  return COMPILED_EXTENSIONS.has(posix.extname(name)) || BUILD_FILES.test(name);
}

/** Renames and copies: refused with the reason (exit 2, as other changes a livepatch cannot carry). */
export function refuseRenames(patches: readonly PatchDescription[]): void {
  for (const patch of patches) {
    for (const file of patch.files) {
      if (file.kind !== 'rename' && file.kind !== 'copy') continue;
      const verb = file.kind === 'rename' ? 'renames' : 'copies';
      throw new UnsupportedChangeError(
        `${patch.patchFile}: ${verb} ${file.oldPath} to ${file.path}: a livepatch replaces functions of the running kernel's objects; it cannot move or copy source files`,
        {
          hint: `make the fix in ${file.oldPath} itself; moving files belongs to a kernel update, not a livepatch`,
        },
      );
    }
  }
}

/** A series that touches only documentation and the like: no functional change (exit 3) before building. */
export function refuseNonCodePatches(patches: readonly PatchDescription[]): void {
  const paths = patches.flatMap((p) => p.files.map((f) => f.path));
  if (paths.length === 0 || paths.some(mayChangeObjects)) return;
  throw new NoChangeError(
    `${patches.map((p) => p.patchFile).join(', ')} changes no file that objects are compiled from (${paths.join(', ')}): no functional change`,
    { hint: 'a livepatch replaces compiled functions; documentation, scripts and tools need no livepatch' },
  );
}
