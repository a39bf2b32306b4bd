import { readFile } from 'node:fs/promises';
import { readElfFile, SHN_UNDEF } from '../elf/index.js';
import { BuildError } from '../errors.js';
import { parseModuleSymvers } from '../symbols/parse-module-symvers.js';
import { checkObjtoolProcessed } from './check-objtool.js';
import { modinfoValue } from './modinfo.js';
import { readModversions } from './modversions.js';

export interface ModuleCheckInput {
  ko: string;
  moduleSymvers: string;
  /** vermagic of a module built for the target, when one is at hand. */
  expectedVermagic?: string;
}

/**
 * The last look before the module is handed out: everything still undefined must be something the
 * module loader resolves (a vmlinux export), every modversions CRC must be the target's, and the
 * vermagic must be the target's, or the kernel would refuse the module.
 */
export async function checkLivepatchModule(input: ModuleCheckInput): Promise<void> {
  const elf = await readElfFile(input.ko);
  const exports = parseModuleSymvers(await readFile(input.moduleSymvers, 'utf8'), input.moduleSymvers);
  const unresolved = elf.symbols
    .filter((s) => !s.section && s.specialIndex === SHN_UNDEF && s.name !== '')
    .map((s) => s.name)
    .filter((name) => exports.get(name)?.module !== 'vmlinux');
  if (unresolved.length > 0) {
    throw new BuildError(`${input.ko}: the kernel cannot resolve ${unresolved.join(', ')}`, {
      hint: 'these are neither vmlinux exports nor livepatch relocations; klp-convert should have converted them',
    });
  }
  const wrongCrc = readModversions(elf)
    .filter(({ name, crc }) => exports.has(name) && exports.get(name)?.crc !== crc)
    .map(({ name }) => name);
  if (wrongCrc.length > 0) {
    throw new BuildError(
      `${input.ko}: modversions CRCs differ from the target's for ${wrongCrc.join(', ')}`,
      {
        hint: "the module was built against another Module.symvers than the target's",
      },
    );
  }
  checkObjtoolProcessed(input.ko, elf);
  const vermagic = modinfoValue(elf, 'vermagic');
  if (input.expectedVermagic !== undefined && vermagic !== input.expectedVermagic) {
    throw new BuildError(
      `${input.ko}: vermagic "${vermagic}" is not the target's "${input.expectedVermagic}"`,
      {
        hint: 'build against the exact tree (and localversion) of the running kernel',
      },
    );
  }
}
