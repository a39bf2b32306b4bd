import { describe, expect, it } from 'vitest';
import type { VmPlan } from '../../src/verify/init-script.js';
import { judgeRun } from '../../src/verify/judge-run.js';
import { loaderMessages, parseConsole } from '../../src/verify/parse-console.js';

const plan: VmPlan = {
  extraModules: [],
  livepatches: [{ file: '/klpv/modules/lp.ko', name: 'lp' }],
  lateModules: [],
  checks: ['/klpv/check-0.sh'],
  unload: true,
  transitionTimeoutSeconds: 5,
};

const DMESG_CLEAN = ['KLPV dmesg - begin', "[ 1.0] livepatch: enabling patch 'lp'", 'KLPV dmesg - end'];
const PASSING = [
  'KLPV boot - 0',
  'KLPV precheck 0 1',
  'KLPV insmod lp 0',
  'KLPV transition lp 0',
  'KLPV-OUT check 0: new output',
  'KLPV check 0 0',
  'KLPV disable lp 0',
  'KLPV rmmod lp 0',
  'KLPV postcheck 0 1',
];

function judge(lines: string[], timedOut = false) {
  const parsed = parseConsole(lines.join('\r\n'));
  return { parsed, steps: judgeRun(plan, parsed, { extra: [], late: [] }, timedOut) };
}

describe('judgeRun', () => {
  it('passes every step of a clean run and keeps check output', () => {
    const { steps, parsed } = judge([...PASSING, ...DMESG_CLEAN, 'KLPV done - ok']);
    expect(steps.map((s) => [s.name, s.ok])).toEqual([
      ['boot', true],
      ['check #1 fails before loading', true],
      ['insmod lp', true],
      ['lp: transition complete', true],
      ['check #1 passes with the livepatch', true],
      ['disable lp', true],
      ['rmmod lp', true],
      ['check #1 fails after unloading', true],
      ['kernel log clean', true],
    ]);
    expect(steps[4]?.output).toEqual(['new output']);
    expect(parsed.done).toBe('ok');
  });

  const failures: Array<[string, string[], string, RegExp]> = [
    [
      'a check that passes before the patch',
      PASSING.map((l) => (l === 'KLPV precheck 0 1' ? 'KLPV precheck 0 0' : l)),
      'check #1 fails before loading',
      /proves nothing/,
    ],
    [
      'insmod refused by the loader',
      [
        'KLPV boot - 0',
        'KLPV precheck 0 1',
        'KLPV-OUT insmod lp: insmod: cannot insert',
        'KLPV insmod lp 1',
        'KLPV dmesg - begin',
        '[    2.1] lp: Unknown symbol saved_command_line (err -2)',
        'KLPV dmesg - end',
      ],
      'insmod lp',
      /the kernel said: lp: Unknown symbol saved_command_line \(err -2\)/,
    ],
    [
      'a transition that never completes',
      ['KLPV boot - 0', 'KLPV precheck 0 1', 'KLPV insmod lp 0', 'KLPV transition lp timeout'],
      'lp: transition complete',
      /did not complete/,
    ],
    [
      'a check still passing after unload',
      PASSING.map((l) => (l === 'KLPV postcheck 0 1' ? 'KLPV postcheck 0 0' : l)),
      'check #1 fails after unloading',
      /still passes/,
    ],
    [
      'a Call Trace in the kernel log',
      [...PASSING, 'KLPV dmesg - begin', '[ 3.0] Call Trace:', 'KLPV dmesg - end'],
      'kernel log clean',
      /a Call Trace/,
    ],
    [
      'a livepatch error in the kernel log',
      [...PASSING, 'KLPV dmesg - begin', "livepatch: failed to enable patch 'lp'", 'KLPV dmesg - end'],
      'kernel log clean',
      /a livepatch error/,
    ],
  ];

  it.each(failures)('fails on %s', (_, lines, failingStep, detail) => {
    const { steps } = judge(lines);
    const failed = steps.find((s) => !s.ok);
    expect(failed?.name).toBe(failingStep);
    expect(failed?.detail).toMatch(detail);
  });

  const WARNING_REPORT = [
    'KLPV dmesg - begin',
    '[ 3.0] ------------[ cut here ]------------',
    '[ 3.0] cmdline_proc_show: first read',
    '[ 3.0] WARNING: CPU: 0 PID: 51 at fs/proc/cmdline.c:18 cmdline_proc_show+0x4c/0x90 [lp]',
    '[ 3.0] Call Trace:',
    '[ 3.0]  <TASK>',
    '[ 3.0] ---[ end trace 0000000000000000 ]---',
    '[ 4.0] Call Trace:',
    'KLPV dmesg - end',
  ];

  it('accepts an allowed WARNING and its trace, but not a Call Trace after it', () => {
    const parsed = parseConsole([...PASSING, ...WARNING_REPORT, 'KLPV done - ok'].join('\n'));
    const strict = judgeRun(plan, parsed, { extra: [], late: [] }, false);
    expect(strict.at(-1)).toMatchObject({ ok: false, detail: /a kernel WARNING: .*cmdline\.c:18/ });
    const allowed = judgeRun(plan, parsed, { extra: [], late: [] }, false, [/at fs\/proc\/cmdline\.c:/]);
    expect(allowed.at(-1)).toMatchObject({ ok: false, detail: /^a Call Trace: \[ 4\.0\] Call Trace:$/ });
    const clean = parseConsole(
      [...PASSING, ...WARNING_REPORT.filter((l) => !l.startsWith('[ 4.0]'))].join('\n'),
    );
    expect(judgeRun(plan, clean, { extra: [], late: [] }, false, [/cmdline_proc_show/]).at(-1)?.ok).toBe(
      true,
    );
  });

  it('says the VM never reached /init when nothing was reported', () => {
    const { steps } = judge(['[ 0.1] Linux version 6.1', 'Kernel panic - not syncing: VFS'], true);
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ name: 'boot', ok: false, detail: /before the timeout/ });
  });

  it('reports a step that was never reached when the guest died midway', () => {
    const { steps } = judge(['KLPV boot - 0', 'KLPV precheck 0 1', 'KLPV insmod lp 0'], false);
    expect(steps.at(-2)).toMatchObject({
      name: 'lp: transition complete',
      ok: false,
      detail: /stopped before/,
    });
  });
});

describe('loaderMessages', () => {
  it('picks the loader lines naming the module, with either - or _ spelling', () => {
    const dmesg = [
      '[ 1.0] klp_x: loading out-of-tree module taints kernel.',
      '[ 1.1] klp_x: Unknown symbol saved_command_line (err -2)',
      '[ 1.2] other: something',
    ];
    expect(loaderMessages(dmesg, 'klp-x')).toEqual(['klp_x: Unknown symbol saved_command_line (err -2)']);
  });
});
