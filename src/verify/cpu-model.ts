/**
 * --cpu MODEL for the verification VM: qemu's -cpu under TCG (default max). A model is a qemu CPU name
 * (Skylake-Client-v4, EPYC, max), optionally followed by ",+flag" / ",-flag" / ",key=value" properties.
 * Checked twice before any work: its shape when the arguments are read (a word, never an option), and
 * its name against the models this qemu lists (`-cpu help`), so a typo is not found after the build.
 */
import { execa } from 'execa';
import { UsageError } from '../errors.js';

const CPU_MODEL = /^[A-Za-z0-9][A-Za-z0-9_.-]*(?:,[A-Za-z0-9_.=+-]+)*$/;

const CPU_HINT =
  'a qemu CPU model such as max, Skylake-Client-v4 or EPYC, optionally with ,+flag/,-flag (qemu-system-x86_64 -cpu help lists them)';

/** The model as given, or a UsageError naming the option when it cannot be a qemu CPU model. */
export function parseCpuModel(text: string | undefined, option = '--cpu'): string | undefined {
  if (text === undefined) return undefined;
  if (!CPU_MODEL.test(text))
    throw new UsageError(`${option} "${text}" is not a qemu CPU model`, { hint: CPU_HINT });
  return text;
}

/** The model names in `qemu-system-x86_64 -cpu help` output ("x86 Skylake-Client-v4  Intel ..."). */
export function listedCpuModels(helpText: string): Set<string> {
  const names = new Set<string>();
  for (const line of helpText.split('\n')) {
    const name = /^x86\s+(\S+)/.exec(line)?.[1];
    if (name) names.add(name);
  }
  return names;
}

/** Refuses a model this qemu does not know, before a build or a boot is spent on it. */
export async function checkCpuModel(model: string, qemuBinary = 'qemu-system-x86_64'): Promise<void> {
  const result = await execa(qemuBinary, ['-cpu', 'help'], { reject: false });
  if (result.exitCode !== 0) return; // qemu itself missing or broken: the boot reports that, with its hint
  const name = model.split(',')[0] ?? model;
  if (!listedCpuModels(String(result.stdout)).has(name)) {
    throw new UsageError(`--cpu "${model}": ${qemuBinary} has no CPU model "${name}"`, {
      hint: CPU_HINT,
    });
  }
}
