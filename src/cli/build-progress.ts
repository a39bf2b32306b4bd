import type { Writable } from 'node:stream';
import { type BuildEvent, isShownEvent } from '../pipeline/build-events.js';
import type { PackageProgress } from '../source/fetch-packages.js';
import { ListrBuildProgress } from './listr-build-progress.js';
import { createDownloadThrottle, describeDownload, eventLine } from './progress-lines.js';

/**
 * What kpatch-build tells the user while it works. The CLI feeds it the pipeline's events and progress
 * messages and ends it with succeed() or fail(); it decides how that looks (plain lines or a live list).
 */
export interface BuildProgress {
  /** A pipeline event: a phase starts, a function changed, a note. */
  event(event: BuildEvent): void;
  /** A progress message of the current phase ("downloading linux-source-6.1", "make prepare for ..."). */
  progress(message: string): void;
  /** A download's byte count (percent when the size is known). */
  download(progress: PackageProgress): void;
  /** A command the build runs; shown only with `verbose` (-d). */
  command(command: string): void;
  /** Ends the display and prints `SUCCESS: <modulePath>`. */
  succeed(modulePath: string): Promise<void>;
  /** Marks the current phase failed and ends the display; the error itself is printed by the caller. */
  fail(error: unknown): Promise<void>;
  /** Ends the display if succeed() or fail() did not (idempotent). */
  close(): Promise<void>;
}

/** A stream the progress is written to; a TTY says so with isTTY (and its width with columns). */
export type ProgressStream = Writable & { isTTY?: boolean; columns?: number };

export interface BuildProgressOptions {
  /** Where progress goes: stderr (stdout is for --json). */
  stream: ProgressStream;
  /** Defaults to process.env (CI and TERM are read). */
  env?: NodeJS.ProcessEnv;
  /** Plain lines even on a terminal. */
  plain?: boolean;
  /** -d: keep every progress line and show the commands. */
  verbose?: boolean;
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/**
 * Plain line-by-line output unless the stream is a terminal that can redraw: not a TTY, a terminal
 * without a size (a pseudo-terminal nobody sized: a live list would wrap at every character), `CI` set
 * (build-farm logs), `TERM=dumb`, or asked for.
 */
export function usesPlainOutput(options: BuildProgressOptions): boolean {
  const env = options.env ?? process.env;
  const { isTTY, columns } = options.stream;
  return options.plain === true || isTTY !== true || !columns || isSet(env.CI) || env.TERM === 'dumb';
}

/** One line per event, exactly as kpatch-build has always printed them; downloads at most every ~10%. */
export class PlainBuildProgress implements BuildProgress {
  private readonly throttle = createDownloadThrottle(true);

  constructor(
    private readonly stream: ProgressStream,
    private readonly verbose = false,
  ) {}

  private line(text: string): void {
    this.stream.write(`${text}\n`);
  }

  event(event: BuildEvent): void {
    if (isShownEvent(event)) this.line(eventLine(event));
  }

  progress(message: string): void {
    this.line(message);
  }

  download(progress: PackageProgress): void {
    const line = describeDownload(progress);
    if (this.throttle(line)) this.line(line.text);
  }

  command(command: string): void {
    if (this.verbose) this.line(`+ ${command}`);
  }

  async succeed(modulePath: string): Promise<void> {
    this.line(`SUCCESS: ${modulePath}`);
  }

  async fail(): Promise<void> {}

  async close(): Promise<void> {}
}

/** The progress display for this stream: plain lines (see usesPlainOutput) or a listr2 task list. */
export function createBuildProgress(options: BuildProgressOptions): BuildProgress {
  const verbose = options.verbose ?? false;
  return usesPlainOutput(options)
    ? new PlainBuildProgress(options.stream, verbose)
    : new ListrBuildProgress(options.stream, verbose);
}
