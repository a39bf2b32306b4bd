/**
 * One run of the pipeline over a target: its work directory, its build log (every event, timed) and the
 * inputs every step reads. Opened by buildLivepatch, closed on every exit path.
 */
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InterruptedError, isKpatchError } from '../errors.js';
import type { SigningKey } from '../module/sign-module.js';
import type { BuildContext } from './build-context.js';
import { describeEvent, type EmitEvent, observeTimings } from './build-events.js';
import type { BuildTarget } from './build-target.js';

/** An external module the patches are for (kpatch-build --oot-module/--oot-module-src). */
export interface OotModule {
  /** The module as built (its symbols give the sympos of its functions). */
  ko: string;
  /** Its source directory, built with `make -C <tree> M=<dir>`. */
  sourceDir: string;
  /** The module's name as the kernel knows it. */
  name: string;
}

/** What to build: the same for every target. */
export interface LivepatchJob {
  patches: string[];
  /** Module name (checked, never rewritten: see livepatchModuleName). */
  name: string;
  outputDir: string;
  replace: boolean;
  /** Leave the tree patched if the build fails. */
  skipCleanup: boolean;
  /** Apply hunks that need fuzz (--allow-fuzz); refused by default, reported either way. */
  allowFuzz: boolean;
  skipCompilerCheck: boolean;
  /** Keep the work dir (-d). */
  keepWorkDir: boolean;
  ootModule?: { ko: string; sourceDir: string };
  /** --sign-key/--sign-cert: sign the module with the target's sign-file. */
  sign?: SigningKey;
}

export interface BuildRun {
  target: BuildTarget;
  job: LivepatchJob;
  ctx: BuildContext;
  /** The patch files, checked and made absolute. */
  patches: string[];
  oot: OotModule | undefined;
  /** Where the patches apply: the tree, or the external module's source. */
  patchRoot: string;
  workDir: string;
  /** Events of this run: to the context and into build.log. */
  emit: EmitEvent;
  /** Set by the first compile: from then on a failure keeps the work dir and names build.log. */
  compiling: boolean;
}

export interface OpenRun {
  run: BuildRun;
  /** Records a failure in build.log (and names the log in the error once compiling began). */
  failed(error: unknown): void;
  /** Keeps the work dir with -d or after a failed compile (not an interrupted one), else removes it. */
  close(succeeded: boolean): Promise<void>;
}

/** Creates the work dir and its build.log: what the user saw, with times, beside the per-object logs. */
export async function openRun(
  target: BuildTarget,
  job: LivepatchJob,
  ctx: BuildContext,
  inputs: { patches: string[]; oot: OotModule | undefined },
): Promise<OpenRun> {
  const workDir = await mkdtemp(join(tmpdir(), 'kpatch-build-'));
  const buildLog = join(workDir, 'build.log');
  const started = performance.now();
  const log = (line: string) =>
    appendFileSync(buildLog, `[${((performance.now() - started) / 1000).toFixed(2)}s] ${line}\n`);
  log(`kpatch-build ${job.name}: tree ${target.tree}, patches ${inputs.patches.join(' ')}`);
  const timings = observeTimings();
  const run: BuildRun = {
    target,
    job,
    ctx,
    ...inputs,
    patchRoot: inputs.oot?.sourceDir ?? target.tree,
    workDir,
    emit: (event) => {
      timings.observe(event);
      if (event.kind !== 'step') log(describeEvent(event));
      ctx.emit(event);
    },
    compiling: false,
  };
  let interrupted = false;
  return {
    run,
    failed(error) {
      log(`failed: ${error instanceof Error ? error.message : String(error)}`);
      interrupted = error instanceof InterruptedError;
      if (isKpatchError(error) && !error.logPath && run.compiling) error.logPath = buildLog;
    },
    async close(succeeded) {
      log(`timings (ms): ${JSON.stringify(timings.timings)}`);
      // The work dir holds the compile and module logs: kept on a failure once compiling began, and with -d.
      // A run the user stopped leaves nothing behind, unless -d or --skip-cleanup asked to keep it.
      const keepFailed = interrupted ? job.skipCleanup : run.compiling;
      if (job.keepWorkDir || (!succeeded && keepFailed)) {
        run.emit({ kind: 'note', message: `work directory kept: ${workDir}` });
      } else {
        await rm(workDir, { recursive: true, force: true });
      }
    },
  };
}
