import { UsageError } from '../errors.js';
import type { VerifyResult } from '../verify/verify-livepatch.js';
import { verifyLivepatch } from '../verify/verify-livepatch.js';
import type { LivepatchBuild as TreeBuildResult } from './build-livepatch.js';

export interface VerifyBuildOptions {
  /** Shell checks (busybox sh) that must fail before, pass with the patch, fail after unloading. */
  checks: readonly string[];
  /** qemu CPU model under TCG (default max), e.g. Skylake-Client-v4 for call depth tracking. */
  cpu?: string;
  signal?: AbortSignal;
}

/** The check used when none is given: the patch is loaded and enabled (it proves loading, not behaviour). */
export function enabledCheck(moduleName: string): string {
  return `test "$(cat /sys/kernel/livepatch/${moduleName.replaceAll('-', '_')}/enabled)" = 1`;
}

/**
 * kpatch-build --verify: boots the target's own image in a VM, loads the new livepatch (and, after it,
 * any module it patches, so late patching is exercised, with the modules those depend on loaded first),
 * and runs the checks before, with and after it.
 */
export async function verifyBuild(
  result: TreeBuildResult,
  options: VerifyBuildOptions,
): Promise<VerifyResult> {
  if (!result.image) {
    throw new UsageError("--verify needs the target kernel's bootable image, and none was found", {
      hint: 'for -s, build arch/x86/boot/bzImage in the tree (make bzImage), or run klp-verify --kernel IMAGE',
    });
  }
  return verifyLivepatch({
    kernel: result.image,
    extraModules: result.targetModuleDependencies,
    modules: [result.module],
    lateModules: result.targetModules,
    checks: options.checks.length > 0 ? [...options.checks] : [enabledCheck(result.name)],
    unload: true,
    ...(options.cpu ? { cpu: options.cpu } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
