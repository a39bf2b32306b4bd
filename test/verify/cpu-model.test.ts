import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { checkCpuModel, listedCpuModels, parseCpuModel } from '../../src/verify/cpu-model.js';

const HELP = `Available CPUs:
x86 486                   (alias configured by machine type)
x86 Skylake-Client-v4     Intel Core Processor (Skylake, IBRS, no TSX)
x86 max                   Enables all features supported by the accelerator in the current host

Recognized CPUID flags:
  3dnow 3dnowext abm
`;

describe('qemu CPU models for --cpu', () => {
  it('reads the model names of `-cpu help`, not its flag list', () => {
    expect([...listedCpuModels(HELP)]).toEqual(['486', 'Skylake-Client-v4', 'max']);
  });

  it.each(['', ',max', '-max', 'max,', 'max;reboot', 'a b'])('refuses the shape %j', (text) => {
    expect(() => parseCpuModel(text)).toThrow(UsageError);
  });

  // The installed qemu answers: a model it lists passes, a typo is refused before any build or boot.
  it('accepts a model this qemu lists, with flags', async () => {
    await expect(checkCpuModel('Skylake-Client-v4,+pcid')).resolves.toBeUndefined();
    await expect(checkCpuModel('max')).resolves.toBeUndefined();
  });

  it('refuses a model this qemu does not list, naming it', async () => {
    await expect(checkCpuModel('Skylake-Clinet')).rejects.toThrow(
      /--cpu "Skylake-Clinet": qemu-system-x86_64 has no CPU model "Skylake-Clinet"/,
    );
  });
});
