import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { prepareTestKernel } from '../../src/distro/prepare-test-kernel.js';
import { checkCompiler } from '../../src/kbuild/compiler-check.js';

// The rules are unit-tested in test/kbuild/compiler-check.test.ts; here, against the built test kernel.
describe('compiler check on the test kernel', () => {
  it('passes for the test kernel (its .config and its vmlinux)', async () => {
    const kernel = await prepareTestKernel();
    await expect(checkCompiler({ config: kernel.config })).resolves.toMatchObject({
      source: 'config',
      local: await localVersion(),
    });
    const byVmlinux = await checkCompiler({ config: kernel.config, vmlinux: kernel.vmlinux! });
    expect(byVmlinux.source).toBe('vmlinux');
    expect(byVmlinux.target).toMatch(/^GCC: /);
  }, 600_000);
});

async function localVersion(): Promise<string> {
  return (await execa('gcc', ['--version'])).stdout.split('\n')[0]!;
}
