import { VerifyError } from '../errors.js';
import { type BootAndCollectOptions, bootAndCollect } from './boot-and-collect.js';

export type DumpKallsymsOptions = BootAndCollectOptions;

/**
 * Boots the image once and returns its /proc/kallsyms (with nokaslr, so addresses are the link-time
 * ones). This is the very table the livepatch loader searches, in the order it counts sympos.
 */
export async function dumpKallsyms(options: DumpKallsymsOptions): Promise<string> {
  const text = await bootAndCollect(options, {
    command: 'gzip -1 -c /proc/kallsyms > /dev/ttyS1',
    label: 'kallsyms',
    append: 'console=ttyS0 quiet nokaslr panic=-1',
    what: 'kallsyms',
  });
  if (!/^[0-9a-f]{16} [A-Za-z] \S+/m.test(text)) {
    throw new VerifyError(`kallsyms read from ${options.kernel} has no symbols`, {
      hint: 'is CONFIG_KALLSYMS enabled in that kernel?',
    });
  }
  if (!/^ffffffff[0-9a-f]{8} [Tt] /m.test(text)) {
    throw new VerifyError(`kallsyms read from ${options.kernel} shows no kernel text addresses`, {
      hint: 'addresses were hidden (kptr_restrict); the dump runs as root with nokaslr and should see them',
    });
  }
  return text;
}
