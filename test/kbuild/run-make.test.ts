import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildError, InterruptedError } from '../../src/errors.js';
import { isErrorLine, runMake } from '../../src/kbuild/run-make.js';

describe('isErrorLine', () => {
  it.each([
    ['ERROR: modpost: missing MODULE_LICENSE() in x.o', true],
    ['x.c:3:1: error: expected ; before }', true],
    ['make[1]: *** [scripts/Makefile.modpost:127: Module.symvers] Error 1', true],
    ["make: *** No rule to make target 'no-such-target'.  Stop.", true],
    ['WARNING: modpost: "saved_command_line" [x.ko] undefined!', false],
    ['x.c:3:1: warning: unused variable error_count', false],
    ['  CC [M]  drivers/error-inject.o', false],
  ])('%s -> %s', (line, expected) => {
    expect(isErrorLine(line)).toBe(expected);
  });
});

describe('runMake', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'run-make-'));
    await writeFile(
      join(dir, 'Makefile'),
      'ok:\n\t@echo building\nslow:\n\t@sleep 30\nbad:\n\t@echo "WARNING: just a warning"\n\t@echo "ERROR: the real cause" >&2\n\t@false\n',
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('logs the command and its output', async () => {
    const logFile = join(dir, 'ok.log');
    await runMake({ dir, args: ['ok'], logFile, what: 'demo' });
    expect(await readFile(logFile, 'utf8')).toMatch(/\$ make -C .* ok\nmake: Entering.*\nbuilding\n/s);
  });

  it('quotes the error, not the warning, and names the log', async () => {
    const logFile = join(dir, 'bad.log');
    const error = await runMake({ dir, args: ['bad'], logFile, what: 'demo' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).message).toMatch(/^demo: make bad failed: ERROR: the real cause/);
    expect((error as BuildError).message).not.toMatch(/WARNING/);
    expect((error as BuildError).logPath).toBe(logFile);
  });

  // Stopped by our abort (or failed once it fired: Ctrl-C reaches make too): the interrupt, not a BuildError.
  it('a make stopped by the abort ends at once in the InterruptedError of the signal', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const make = runMake({
      dir,
      args: ['slow'],
      logFile: join(dir, 'slow.log'),
      what: 'demo',
      signal: controller.signal,
    });
    setTimeout(() => controller.abort('SIGTERM'), 200);
    const error = await make.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).signal).toBe('SIGTERM');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
