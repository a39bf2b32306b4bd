import { prepareTestKernel } from '../distro/prepare-test-kernel.js';
import type { PrepareOptions } from './prepare-debian-target.js';
import { prepareDebianTarget } from './prepare-debian-target.js';
import type { TargetKernel, TargetSpec } from './target.js';

/** Makes a target kernel ready in the cache (download, unpack, or build) and describes it. */
export async function prepareTarget(spec: TargetSpec, options: PrepareOptions = {}): Promise<TargetKernel> {
  switch (spec.kind) {
    case 'debian':
      return prepareDebianTarget(spec.release, options);
    case 'test':
      return prepareTestKernel(options);
  }
}
