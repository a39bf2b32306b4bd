import { Writable } from 'node:stream';
import { figures } from 'listr2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type BuildProgress,
  createBuildProgress,
  PlainBuildProgress,
  usesPlainOutput,
} from '../../src/cli/build-progress.js';
import { ListrBuildProgress } from '../../src/cli/listr-build-progress.js';
import type { BuildEvent } from '../../src/pipeline/build-events.js';
import type { PackageProgress } from '../../src/source/fetch-packages.js';

/** A stream that keeps what is written; a terminal 100 columns wide when `tty`. */
function fakeStream(tty: boolean, columns = 100) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    tty ? { isTTY: true, columns } : {},
  );
  return { stream, text: () => chunks.join('') };
}

const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** What stays on the terminal once the list has ended: its last drawing and what came after it. */
function finalScreen(text: string): string[] {
  // log-update ends every erase with "go to column 1"; the list's last drawing follows the last one.
  const after = text.slice(text.lastIndexOf('\u001b[G') + '\u001b[G'.length);
  return after
    .replace(ANSI, '')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.replace(/ \[[\dm.]+s\]$/, '')); // the phase's duration
}

const phase = (message: string): BuildEvent => ({ kind: 'phase', message });
const changed = (object: string, fn: string): BuildEvent => ({
  kind: 'function',
  object,
  function: fn,
  change: 'changed',
});
const download = (transferred: number, total: number | undefined, index = 0, count = 1): PackageProgress => ({
  package: `pkg${index}`,
  fileName: `pkg${index}.deb`,
  index,
  count,
  transferred,
  total,
});

type Step =
  | { event: BuildEvent }
  | { progress: string }
  | { download: PackageProgress }
  | { command: string }
  | { succeed: string }
  | { fail: Error };

async function play(progress: BuildProgress, steps: Step[]): Promise<void> {
  for (const step of steps) {
    if ('event' in step) progress.event(step.event);
    else if ('progress' in step) progress.progress(step.progress);
    else if ('download' in step) progress.download(step.download);
    else if ('command' in step) progress.command(step.command);
    else if ('succeed' in step) await progress.succeed(step.succeed);
    else await progress.fail(step.fail);
  }
  await progress.close();
}

const TREE_BUILD: Step[] = [
  { event: phase('Testing patch file(s)') },
  { event: phase('Building original source') },
  { event: phase('Building patched source') },
  { event: phase('Extracting new and modified ELF sections') },
  { event: changed('fs/proc/cmdline.o', 'cmdline_proc_show') },
  { event: { kind: 'function', object: 'fs/proc/cmdline.o', function: 'mark', change: 'new' } },
  { event: phase('Patched objects: vmlinux') },
  { event: phase('Building patch module: livepatch-cmdline.ko') },
];

describe('plain output', () => {
  it.each<{ name: string; verbose?: boolean; steps: Step[]; lines: string[] }>([
    {
      name: 'kpatch-build -s, exactly the lines it has always printed',
      steps: [...TREE_BUILD, { succeed: '/out/livepatch-cmdline.ko' }],
      lines: [
        'Testing patch file(s)',
        'Building original source',
        'Building patched source',
        'Extracting new and modified ELF sections',
        'fs/proc/cmdline.o: changed function: cmdline_proc_show',
        'fs/proc/cmdline.o: new function: mark',
        'Patched objects: vmlinux',
        'Building patch module: livepatch-cmdline.ko',
        'SUCCESS: /out/livepatch-cmdline.ko',
      ],
    },
    {
      name: 'the Debian flow: its progress messages as lines, a note, no SUCCESS on failure',
      steps: [
        { event: phase('Debian kernel 6.1.0-56-amd64: preparing its source (cached)') },
        { progress: 'downloading linux-source-6.1' },
        { progress: 'make prepare for 6.1.0-56-amd64' },
        { event: phase('Testing patch file(s)') },
        { event: { kind: 'note', message: 'work directory kept: /tmp/kpatch-build-x' } },
        { fail: new Error('the patch does not apply') },
      ],
      lines: [
        'Debian kernel 6.1.0-56-amd64: preparing its source (cached)',
        'downloading linux-source-6.1',
        'make prepare for 6.1.0-56-amd64',
        'Testing patch file(s)',
        'work directory kept: /tmp/kpatch-build-x',
      ],
    },
    {
      name: 'a download: one line per 10%, whatever the number of updates',
      steps: Array.from({ length: 1001 }, (_, i) => ({ download: download(i * 139_000, 139_000_000) })),
      lines: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((p) => `downloading pkg0: ${p}% of 139.0 MB`),
    },
    {
      name: 'several packages, a resumed one starting at 57%, one of unknown size (every 10 MB)',
      steps: [
        { download: download(57_000_000, 100_000_000, 0, 2) },
        { download: download(58_000_000, 100_000_000, 0, 2) },
        { download: download(61_000_000, 100_000_000, 0, 2) },
        { download: download(3_000_000, undefined, 1, 2) },
        { download: download(9_000_000, undefined, 1, 2) },
        { download: download(12_500_000, undefined, 1, 2) },
      ],
      lines: [
        'downloading pkg0: 57% of 100.0 MB (1 of 2)',
        'downloading pkg0: 61% of 100.0 MB (1 of 2)',
        'downloading pkg1: 3.0 MB (2 of 2)',
        'downloading pkg1: 12.5 MB (2 of 2)',
      ],
    },
    {
      name: 'commands only with -d',
      steps: [{ event: phase('Building original source') }, { command: 'make -C /src fs/proc/cmdline.o' }],
      lines: ['Building original source'],
    },
    {
      name: 'commands with -d',
      verbose: true,
      steps: [{ event: phase('Building original source') }, { command: 'make -C /src fs/proc/cmdline.o' }],
      lines: ['Building original source', '+ make -C /src fs/proc/cmdline.o'],
    },
  ])('$name', async ({ verbose, steps, lines }) => {
    const { stream, text } = fakeStream(false);
    await play(new PlainBuildProgress(stream, verbose), steps);
    expect(text()).toBe(lines.map((line) => `${line}\n`).join(''));
  });
});

describe('choosing the output', () => {
  it.each<{ tty: boolean; columns?: number; env: NodeJS.ProcessEnv; plain?: boolean; expected: boolean }>([
    { tty: false, env: {}, expected: true },
    { tty: true, columns: 0, env: {}, expected: true },
    { tty: true, env: { CI: 'true' }, expected: true },
    { tty: true, env: { CI: '1' }, expected: true },
    { tty: true, env: { TERM: 'dumb' }, expected: true },
    { tty: true, env: {}, plain: true, expected: true },
    { tty: true, env: {}, expected: false },
    { tty: true, env: { CI: '' }, expected: false },
    { tty: true, env: { CI: 'false', TERM: 'xterm-256color' }, expected: false },
  ])(
    'tty=$tty columns=$columns env=$env plain=$plain: plain is $expected',
    ({ tty, columns, env, plain, expected }) => {
      const { stream } = fakeStream(tty, columns);
      const options = { stream, env, ...(plain ? { plain } : {}) };
      expect(usesPlainOutput(options)).toBe(expected);
      expect(createBuildProgress(options)).toBeInstanceOf(expected ? PlainBuildProgress : ListrBuildProgress);
    },
  );

  it('writes plain lines without escape codes to a terminal when CI is set', async () => {
    const { stream, text } = fakeStream(true);
    await play(createBuildProgress({ stream, env: { CI: 'true' } }), [
      ...TREE_BUILD.slice(0, 2),
      { succeed: '/out/x.ko' },
    ]);
    expect(text()).toBe('Testing patch file(s)\nBuilding original source\nSUCCESS: /out/x.ko\n');
  });
});

describe('listr2 output on a terminal', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('shows every phase done, the changed functions under theirs, then the SUCCESS line', async () => {
    const { stream, text } = fakeStream(true);
    const stdout = vi.spyOn(process.stdout, 'write');
    await play(createBuildProgress({ stream, env: {} }), [
      ...TREE_BUILD,
      { succeed: '/out/livepatch-cmdline.ko' },
    ]);
    expect(stdout).not.toHaveBeenCalled(); // stdout stays free for --json
    expect(finalScreen(text())).toEqual([
      `${figures.tick} Testing patch file(s)`,
      `${figures.tick} Building original source`,
      `${figures.tick} Building patched source`,
      `${figures.tick} Extracting new and modified ELF sections`,
      `  ${figures.pointerSmall} fs/proc/cmdline.o: changed function: cmdline_proc_show`,
      '    fs/proc/cmdline.o: new function: mark',
      `${figures.tick} Patched objects: vmlinux`,
      `${figures.tick} Building patch module: livepatch-cmdline.ko`,
      'SUCCESS: /out/livepatch-cmdline.ko',
    ]);
    expect(text().endsWith('SUCCESS: /out/livepatch-cmdline.ko\n')).toBe(true);
  });

  it('shows progress under the running phase while it runs, and drops it when the phase is done', async () => {
    const { stream, text } = fakeStream(true);
    const progress = createBuildProgress({ stream, env: {} });
    progress.event(phase('Debian kernel 6.1.0-56-amd64: preparing its source'));
    progress.progress('downloading linux-source-6.1');
    await vi.waitFor(() => expect(text()).toContain('downloading linux-source-6.1\n'));
    progress.download(download(50_000_000, 139_000_000));
    await vi.waitFor(() => expect(text()).toContain('downloading pkg0: 35% of 139.0 MB'));
    progress.progress('make prepare for 6.1.0-56-amd64');
    await vi.waitFor(() => expect(text()).toContain('make prepare for 6.1.0-56-amd64'));
    progress.event(phase('Testing patch file(s)'));
    await progress.succeed('/out/x.ko');
    expect(finalScreen(text())).toEqual([
      `${figures.tick} Debian kernel 6.1.0-56-amd64: preparing its source`,
      `${figures.tick} Testing patch file(s)`,
      'SUCCESS: /out/x.ko',
    ]);
  });

  it('keeps progress lines and shows commands with -d', async () => {
    const { stream, text } = fakeStream(true);
    await play(createBuildProgress({ stream, env: {}, verbose: true }), [
      { event: phase('Building original source') },
      { progress: 'compiling fs/proc/cmdline.o' },
      { command: 'make -C /src fs/proc/cmdline.o' },
      { succeed: '/out/x.ko' },
    ]);
    expect(finalScreen(text())).toEqual([
      `${figures.tick} Building original source`,
      `  ${figures.pointerSmall} compiling fs/proc/cmdline.o`,
      '    + make -C /src fs/proc/cmdline.o',
      'SUCCESS: /out/x.ko',
    ]);
  });

  it('marks the running phase failed and leaves the error to the caller', async () => {
    const { stream, text } = fakeStream(true);
    await play(createBuildProgress({ stream, env: {} }), [
      ...TREE_BUILD.slice(0, 3),
      { event: { kind: 'note', message: 'work directory kept: /tmp/kpatch-build-x' } },
      { fail: new Error('compiling fs/proc/cmdline.o failed') },
    ]);
    expect(finalScreen(text())).toEqual([
      `${figures.tick} Testing patch file(s)`,
      `${figures.tick} Building original source`,
      `${figures.cross} Building patched source`,
      `  ${figures.pointerSmall} work directory kept: /tmp/kpatch-build-x`,
    ]);
    expect(text()).not.toContain('compiling fs/proc/cmdline.o failed');
    expect(text()).not.toContain('SUCCESS');
  });

  it('writes nothing when the build fails before its first phase', async () => {
    const { stream, text } = fakeStream(true);
    await play(createBuildProgress({ stream, env: {} }), [{ fail: new Error('no such tree') }]);
    expect(text()).toBe('');
  });
});
