/**
 * Reproducible livepatch modules: two runs of the same patch for the same release must give the same
 * .ko bytes, so a release job can rebuild and compare, and a signature made once stays valid. A module
 * carries no time stamps (kbuild's modules have none; sign-file signs without a signing-time attribute),
 * but the module directory is a fresh temporary one per run and compilers record their directory in the
 * debug info (DW_AT_comp_dir, DW_AT_name of klp-main.c and the .mod.c): mapped to "." here. The build-id
 * is a hash of the rest, so it follows. Paths of the cached target tree stay: the same for one cache
 * directory (in the container image, always /var/cache/kpatch-build).
 */

/** The make variable that maps MODULEDIR out of everything the compiler records, keeping the user's KCFLAGS. */
export function reproducibleKcflags(moduleDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const user = env.KCFLAGS?.trim();
  return `KCFLAGS=${user ? `${user} ` : ''}-ffile-prefix-map=${moduleDir}=.`;
}
