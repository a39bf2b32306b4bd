import { type BuildEvent, describeEvent } from '../pipeline/build-events.js';
import type { PackageProgress } from '../source/fetch-packages.js';

/** How kpatch-build words an event: the phase's message, or "fs/proc/cmdline.o: changed function: f". */
export function eventLine(event: BuildEvent): string {
  return describeEvent(event);
}

/** One download update, already worded; `step` changes every ~10% (or every 10 MB when the size is unknown). */
export interface DownloadLine {
  text: string;
  /** The file this update is about: each file is throttled on its own. */
  key: string;
  /** Coarse position: a plain log prints one line per step. */
  step: number;
  /** Fine position (whole percent, or MB): a live display redraws when it changes. */
  tick: number;
}

const MB = 1_000_000;

function megabytes(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** "downloading linux-source-6.1: 42% of 139.2 MB" (with "(2 of 3)" when a list of packages is fetched). */
export function describeDownload(progress: PackageProgress): DownloadLine {
  const of = progress.count > 1 ? ` (${progress.index + 1} of ${progress.count})` : '';
  const key = `${progress.index}:${progress.fileName}`;
  if (progress.total && progress.total > 0) {
    const percent = Math.min(100, Math.floor((progress.transferred * 100) / progress.total));
    return {
      text: `downloading ${progress.package}: ${percent}% of ${megabytes(progress.total)}${of}`,
      key,
      step: Math.floor(percent / 10),
      tick: percent,
    };
  }
  const mb = Math.floor(progress.transferred / MB);
  return {
    text: `downloading ${progress.package}: ${megabytes(progress.transferred)}${of}`,
    key,
    step: Math.floor(mb / 10),
    tick: mb,
  };
}

/**
 * Passes a download line on only when its file's position moved far enough since the last one passed on:
 * `coarse` (plain logs) keeps one line per ~10%, otherwise one per whole percent.
 */
export function createDownloadThrottle(coarse: boolean): (line: DownloadLine) => boolean {
  const last = new Map<string, number>();
  return (line) => {
    const position = coarse ? line.step : line.tick;
    if (last.get(line.key) === position) return false;
    last.set(line.key, position);
    return true;
  };
}
