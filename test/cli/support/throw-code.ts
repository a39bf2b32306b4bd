// A command whose main throws the error of one code, run through runCli as every bin/ launcher is:
// the process's exit status is what a user sees for that code.
import { runCli } from '../../../src/cli/run-cli.js';
import type { ErrorCode } from '../../../src/errors.js';
import { InterruptedError, KpatchError } from '../../../src/errors.js';

const code = process.argv[2] as ErrorCode;
await runCli('probe', async () => {
  if (code === 'internal') throw new TypeError('a bug');
  if (code === 'interrupted') throw new InterruptedError('SIGINT');
  throw new KpatchError(code, `a ${code} error`, { hint: 'what to do' });
});
