import { readElfFile } from '../elf/index.js';
import { isKpatchError, VerifyError } from '../errors.js';
import { modinfoValue } from '../module/modinfo.js';

/**
 * The name the kernel gives a module (and so its /sys/kernel/livepatch directory): the `name=` entry of
 * its .modinfo, which modpost derives from the file name with '-' turned into '_'.
 */
export async function readModuleName(koPath: string): Promise<string> {
  const elf = await readElfFile(koPath).catch((cause: unknown) => {
    const why = isKpatchError(cause) ? cause.message : `cannot read ${koPath}`;
    throw new VerifyError(`${why}`, { cause, hint: 'pass the .ko file kbuild produced' });
  });
  const name = modinfoValue(elf, 'name');
  if (!name) {
    throw new VerifyError(`${koPath} has no .modinfo name= entry`, {
      hint: 'is it a module built by kbuild (modpost adds the name)?',
    });
  }
  return name;
}
