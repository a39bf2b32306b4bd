/**
 * A target kernel: everything kpatch-build needs to know about the kernel a livepatch will be loaded into.
 * Paths are absolute and point into the cache.
 */
export type TargetKind = 'debian' | 'test';

/** Where symbol names, addresses and order come from. */
export interface SymbolSource {
  /** 'kallsyms': lines of /proc/kallsyms ("addr type name [module]"), System.map format for vmlinux only. */
  format: 'kallsyms' | 'system-map' | 'vmlinux';
  path: string;
  /** How the file was obtained, for messages and docs. */
  origin: string;
}

export interface TargetKernel {
  /** e.g. "debian:6.1.0-56-amd64" or "test:6.1.192-tiny-<hash>". */
  id: string;
  kind: TargetKind;
  /** What `uname -r` prints on that kernel (and the vermagic prefix). */
  release: string;
  /** Distro package version the files come from, e.g. "6.1.192-2". */
  packageVersion: string;
  arch: 'x86_64';
  /** Bootable image (bzImage). */
  image: string;
  /** The kernel's .config. */
  config: string;
  symbols: SymbolSource;
  moduleSymvers: string;
  /** Directory to run `make -C <buildDir> M=<dir> modules` in. */
  buildDir: string;
  /** lib/modules/<release> of the target, when it has loadable modules shipped. */
  modulesDir?: string;
  /** A vmlinux with a symbol table, when one is at hand. */
  vmlinux?: string;
  /** Full source tree, when prepared. */
  sourceDir?: string;
}

/** A parsed --target argument. */
export type TargetSpec = { kind: 'debian'; release: string | 'latest' } | { kind: 'test' };
