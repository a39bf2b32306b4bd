/**
 * kpatch-build's Debian archive options (--suite, --ignore-valid-until), checked and put into effect in one
 * place: they become overrides every later debianArchiveConfig() call sees, so no call site between the
 * CLI and the archive client passes them along.
 */
import { UsageError } from '../errors.js';
import { setDebianArchiveOverrides } from '../source/debian-mirrors.js';
import { suiteData } from './debian-layout.js';
import { detectDistro } from './detect-distro.js';

export interface DebianArchiveOptions {
  suite?: string | undefined;
  ignoreValidUntil?: boolean | undefined;
  /** --distro as given (else /etc/os-release decides), and -s's tree if any. */
  distro: string | undefined;
  sourceDir?: string | undefined;
}

export function applyDebianArchiveOptions(options: DebianArchiveOptions): void {
  if (options.suite === undefined && !options.ignoreValidUntil) return;
  if (options.sourceDir !== undefined || detectDistro(options.distro) !== 'debian') {
    throw new UsageError('--suite and --ignore-valid-until are for Debian targets', {
      hint: 'add --distro debian, or leave them out',
    });
  }
  if (options.suite !== undefined) suiteData(options.suite); // refuses an unknown suite, naming the known
  setDebianArchiveOverrides({
    ...(options.suite !== undefined ? { suite: options.suite } : {}),
    ...(options.ignoreValidUntil ? { ignoreValidUntil: true } : {}),
  });
}
