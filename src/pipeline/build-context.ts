/**
 * The knobs every step shares, normalised once by the CLI (or a test): each has one default, here, which
 * the --help text quotes too. Steps read them from here instead of receiving copies.
 */
import { availableParallelism } from 'node:os';
import type { PackageProgress } from '../source/fetch-packages.js';
import type { EmitEvent } from './build-events.js';

export interface BuildContext {
  /** Compilers and make jobs at once (-j). */
  jobs: number;
  /** Compile the affected objects over distcc (DISTCC_HOSTS or --distcc): src/kbuild/distcc.ts. */
  distcc: boolean;
  /**
   * Refuse to compile more objects than this (--max-objects): opt-in, unset by default, since a header
   * change is pruned to the includers whose code can change.
   */
  maxObjects: number | undefined;
  /** Aborted on SIGINT/SIGTERM: every step and child process stops, cleanups run. */
  signal: AbortSignal;
  /** Events: phases, changed functions, notes, step times. */
  emit: EmitEvent;
  /** Each command line before it runs (make, the compiles), shown with -d. */
  onCommand: (command: string) => void;
  /** Progress messages of the current phase ("downloading …"). */
  onProgress: (message: string) => void;
  /** Byte progress of package downloads. */
  onDownload: (progress: PackageProgress) => void;
}

export type BuildContextInput = Partial<BuildContext>;

const ignore = () => {};

/** The context with every default filled in. */
export function buildContext(input: BuildContextInput = {}): BuildContext {
  return {
    jobs: input.jobs ?? availableParallelism(),
    distcc: input.distcc ?? false,
    maxObjects: input.maxObjects,
    signal: input.signal ?? new AbortController().signal,
    emit: input.emit ?? ignore,
    onCommand: input.onCommand ?? ignore,
    onProgress: input.onProgress ?? ignore,
    onDownload: input.onDownload ?? ignore,
  };
}
