import { ExtractionLedger } from './safe-extract.js';
import { type StagingOptions, withStagingDir } from './staging-dir.js';

/**
 * Extracts several packages (.deb, .rpm) into one tree at `dest`, all or nothing: they are unpacked
 * into a staging directory beside `dest` that is renamed into place only when every package succeeded,
 * sharing one ledger so a later package cannot write through an earlier one's symlinks.
 */
export async function extractPackagesInto<R extends { written: number; skipped: number }>(
  dest: string,
  packages: readonly string[],
  extractOne: (pkg: string, dir: string, ledger: ExtractionLedger) => Promise<R>,
  options: StagingOptions = {},
): Promise<{ dir: string; written: number; skipped: number; results: R[] }> {
  return withStagingDir(
    dest,
    async (dir) => {
      const ledger = new ExtractionLedger();
      const results: R[] = [];
      for (const pkg of packages) results.push(await extractOne(pkg, dir, ledger));
      const written = results.reduce((sum, r) => sum + r.written, 0);
      const skipped = results.reduce((sum, r) => sum + r.skipped, 0);
      return { dir: dest, written, skipped, results };
    },
    options,
  );
}
