import { readFile } from 'node:fs/promises';
import { VerifyError } from '../errors.js';

/**
 * The name the kernel gives a module (and so its /sys/kernel/livepatch directory): the `name=` entry of
 * its .modinfo, which kbuild derives from the file name with '-' turned into '_'.
 */
export async function readModuleName(koPath: string): Promise<string> {
  const bytes = await readFile(koPath).catch((cause: unknown) => {
    throw new VerifyError(`cannot read module ${koPath}`, { cause, hint: 'check the --module path' });
  });
  if (bytes.subarray(0, 4).toString('latin1') !== '\x7fELF') {
    throw new VerifyError(`${koPath} is not an ELF kernel module`, {
      hint: 'pass the .ko file kbuild produced',
    });
  }
  // .modinfo is a run of NUL-terminated key=value strings; "name=" appears there once.
  const key = Buffer.from('\0name=', 'latin1');
  const at = bytes.indexOf(key);
  if (at < 0) {
    throw new VerifyError(`${koPath} has no modinfo name= entry`, {
      hint: 'is it a module built by kbuild (modpost adds the name)?',
    });
  }
  const start = at + key.length;
  const end = bytes.indexOf(0, start);
  return bytes.subarray(start, end < 0 ? undefined : end).toString('latin1');
}
