import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DistroError } from '../errors.js';

/** The top-level distro/ folder: distro facts live there as data, not code. */
export const DISTRO_DATA_DIR = fileURLToPath(new URL('../../distro/', import.meta.url));

export function loadDistroData<T>(name: string): T {
  const file = `${DISTRO_DATA_DIR}${name}.json`;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (cause) {
    throw new DistroError(`cannot read distro data ${file}`, { cause, hint: 'is the checkout complete?' });
  }
}

/** Replaces {key} placeholders; an unknown key is a bug in the data file, so it throws. */
export function expandTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replaceAll(/\{(\w+)\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined)
      throw new DistroError(`distro data uses unknown placeholder {${key}} in "${template}"`);
    return value;
  });
}
