import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RunMakeOptions } from '../../src/kbuild/run-make.js';
import type { Toolchain } from '../../src/kbuild/toolchain.js';
import type { BuildContext } from '../../src/pipeline/build-context.js';
import { buildContext } from '../../src/pipeline/build-context.js';
import type { BuildEvent } from '../../src/pipeline/build-events.js';
import type { BuildRun, LivepatchJob } from '../../src/pipeline/build-run.js';
import type { BuildTarget } from '../../src/pipeline/build-target.js';

/**
 * A toolchain that runs nothing: it records each make and "builds" every .o target it is asked for (an
 * empty file), so steps that need make's outputs can be run on a fake tree.
 */
export function recordingToolchain(): Toolchain & { makes: RunMakeOptions[]; compiles: string[] } {
  const makes: RunMakeOptions[] = [];
  const compiles: string[] = [];
  return {
    name: 'fake',
    makes,
    compiles,
    async make(options) {
      makes.push(options);
      for (const arg of options.args.filter((a) => a.endsWith('.o'))) {
        await mkdir(dirname(join(options.dir, arg)), { recursive: true });
        await writeFile(join(options.dir, arg), '');
      }
    },
    command: (command) => command,
    async compile(options) {
      compiles.push(options.object.target);
      throw new Error(`the fake toolchain does not compile (${options.object.target})`);
    },
  };
}

/** A target value over a fake tree: a prepared (never built) distro tree unless overridden. */
export function fakeTarget(tree: string, overrides: Partial<BuildTarget> = {}): BuildTarget {
  return {
    label: 'Fake kernel 1.0',
    tree,
    config: join(tree, '.config'),
    symbols: { format: 'kallsyms', path: join(tree, 'kallsyms') },
    moduleSymvers: join(tree, 'Module.symvers'),
    moduleBuildDir: tree,
    parents: 'compile-flags',
    touched: 'compile-single',
    utsDefines: [],
    toolchain: recordingToolchain(),
    ...overrides,
  };
}

export function fakeJob(overrides: Partial<LivepatchJob> = {}): LivepatchJob {
  return {
    patches: [],
    name: 'livepatch-fake',
    outputDir: '/nonexistent',
    replace: true,
    skipCleanup: false,
    allowFuzz: false,
    skipCompilerCheck: true,
    keepWorkDir: false,
    ...overrides,
  };
}

/** A context whose events are kept. */
export function recordingContext(
  overrides: Partial<BuildContext> = {},
): BuildContext & { events: BuildEvent[] } {
  const events: BuildEvent[] = [];
  return { ...buildContext({ jobs: 2, emit: (e) => events.push(e), ...overrides }), events };
}

/** A run over `target` without a work dir (for steps that do not write one). */
export function fakeRun(target: BuildTarget, ctx = recordingContext(), job = fakeJob()): BuildRun {
  return {
    target,
    job,
    ctx,
    patches: job.patches,
    oot: undefined,
    patchRoot: target.tree,
    workDir: '/nonexistent',
    emit: ctx.emit,
    compiling: false,
  };
}
