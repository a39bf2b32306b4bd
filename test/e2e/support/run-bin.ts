import { execa } from 'execa';
import { REPO } from './paths.js';

export interface BinResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the bin/ launchers as a user would, never throwing on a non-zero exit. `env` adds to the
 * environment (e.g. a mirror override or CACHEDIR).
 */
export async function runBin(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<BinResult> {
  const result = await execa('node', [`${REPO}bin/${name}.js`, ...args], {
    reject: false,
    cwd: REPO,
    env: { CI: 'true', ...env },
    timeout: 20 * 60_000,
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}
