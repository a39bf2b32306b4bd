import { writeSync } from 'node:fs';
import { DefaultRenderer, Listr, ListrLogger, type ListrTask, PRESET_TIMER, ProcessOutput } from 'listr2';
import { type BuildEvent, isShownEvent } from '../pipeline/build-events.js';
import type { PackageProgress } from '../source/fetch-packages.js';
import type { BuildProgress, ProgressStream } from './build-progress.js';
import { createDownloadThrottle, describeDownload, eventLine } from './progress-lines.js';

/**
 * listr2's default renderer, drawing on the stream it is given: that is stderr, which is a terminal even
 * when stdout is not (`--json > result.json`), so it must not fall back because stdout is no TTY.
 */
class StreamRenderer extends DefaultRenderer {
  static override nonTTY = true;
}

/** One phase of the build as the list shows it: a task that runs until the next phase starts. */
interface Phase {
  title: string;
  /** Kept under the title once the phase is over (changed functions, notes, and with -d everything). */
  lines: string[];
  /** The latest progress message (download percent, "make prepare ..."), shown while the phase runs. */
  current: string | undefined;
  /** Set once listr2 runs the phase's task. */
  show: ((output: string) => void) | undefined;
  done: Promise<void>;
  finish: () => void;
  abort: (error: unknown) => void;
}

function newPhase(title: string, lines: string[]): Phase {
  let finish = () => {};
  let abort: (error: unknown) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    abort = reject;
  });
  // Rejected before its task awaits it when a build fails between two ticks: not an unhandled rejection.
  done.catch(() => {});
  return { title, lines, current: undefined, show: undefined, done, finish, abort };
}

/**
 * Shows the build as a listr2 task list on a terminal. The pipeline reports events, not tasks, so each
 * phase is a task that completes when the next phase starts; since listr2 fixes a list's tasks when it
 * runs, the phases are chained: an untitled step waits for phase N, then runs it and the step for N+1
 * as a subtask list (untitled tasks add no indentation, so the phases line up).
 */
export class ListrBuildProgress implements BuildProgress {
  private readonly phases: Phase[] = [];
  /** Lines that came before the first phase; they go under it. */
  private early: string[] = [];
  private waiters: Array<() => void> = [];
  private ended = false;
  private running: Promise<void> | undefined;
  private readonly throttle = createDownloadThrottle(false);

  constructor(
    private readonly stream: ProgressStream,
    private readonly verbose = false,
  ) {}

  event(event: BuildEvent): void {
    if (event.kind === 'phase') this.startPhase(event.message);
    else if (isShownEvent(event)) this.addLine(eventLine(event));
  }

  progress(message: string): void {
    if (this.verbose) this.addLine(message);
    else this.setCurrent(message);
  }

  download(progress: PackageProgress): void {
    const line = describeDownload(progress);
    if (this.throttle(line)) this.setCurrent(line.text);
  }

  command(command: string): void {
    if (this.verbose) this.addLine(`+ ${command}`);
  }

  async succeed(modulePath: string): Promise<void> {
    await this.close();
    this.stream.write(`SUCCESS: ${modulePath}\n`);
  }

  async fail(error: unknown): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      this.phases.at(-1)?.abort(error);
      this.wake();
    }
    await this.running;
  }

  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      this.phases.at(-1)?.finish();
      this.wake();
    }
    await this.running;
  }

  private startPhase(title: string): void {
    if (this.ended) return;
    const previous = this.phases.at(-1);
    if (previous) {
      previous.current = undefined;
      this.render(previous);
      previous.finish();
    }
    this.phases.push(newPhase(title, this.early));
    this.early = [];
    this.wake();
    this.running ??= this.start();
  }

  private addLine(line: string): void {
    const phase = this.phases.at(-1);
    if (!phase) {
      this.early.push(line);
      return;
    }
    phase.lines.push(line);
    this.render(phase);
  }

  private setCurrent(message: string): void {
    const phase = this.phases.at(-1);
    if (!phase) return;
    phase.current = message;
    this.render(phase);
  }

  private render(phase: Phase): void {
    phase.show?.([...phase.lines, ...(phase.current ? [phase.current] : [])].join('\n'));
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Phase `index`, once it has started; undefined if the build ends first. */
  private async phaseAt(index: number): Promise<Phase | undefined> {
    while (index >= this.phases.length && !this.ended) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.phases[index];
  }

  private step(index: number): ListrTask {
    return {
      task: async (_ctx, task) => {
        const phase = await this.phaseAt(index);
        if (!phase) return;
        return task.newListr([this.phaseTask(phase), this.step(index + 1)]);
      },
    };
  }

  private phaseTask(phase: Phase): ListrTask {
    return {
      title: phase.title,
      // One output entry holding all the phase's lines, kept after the phase ends.
      rendererOptions: { outputBar: true, persistentOutput: true },
      task: async (_ctx, task) => {
        phase.show = (output) => {
          task.output = output;
        };
        this.render(phase);
        try {
          await phase.done;
        } finally {
          // Drop the progress message before listr2 freezes the finished task's lines.
          phase.current = undefined;
          this.render(phase);
        }
      },
    };
  }

  private async start(): Promise<void> {
    // Both of listr2's outputs are our stream: it draws there, and stray writes to it are held back
    // until the list ends instead of tearing through the drawing.
    const stream = this.stream as NodeJS.WriteStream;
    const list = new Listr([this.step(0)], {
      renderer: StreamRenderer,
      rendererOptions: {
        logger: new ListrLogger({
          processOutput: new ProcessOutput(stream, stream, { leaveEmptyLine: false }),
        }),
        // A failed phase keeps its title (marked failed); the CLI prints the error after the list.
        collapseErrors: true,
        showErrorMessage: false,
        timer: PRESET_TIMER,
      },
      exitOnError: true,
      collectErrors: false,
      // kpatch-build's own handler turns Ctrl-C into an abort that cleans up; listr2 must not exit.
      registerSignalListeners: false,
    });
    // A second Ctrl-C exits at once (signals.ts): give the terminal its cursor back, which listr2 hid.
    const showCursor = () => {
      if (stream === process.stderr) writeSync(2, '\u001b[?25h');
    };
    process.once('exit', showCursor);
    try {
      // A failed phase rejects the list; fail()'s caller has the error and reports it.
      await list.run().catch(() => {});
    } finally {
      process.off('exit', showCursor);
    }
  }
}
