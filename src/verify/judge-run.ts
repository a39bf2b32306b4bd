import type { VmPlan } from './init-script.js';
import type { ParsedConsole } from './parse-console.js';
import { findKernelProblems, loaderMessages } from './parse-console.js';

export interface VerifyStep {
  name: string;
  ok: boolean;
  /** One line a person can act on. */
  detail: string;
  /** What the step's command printed (check output, insmod errors). */
  output: string[];
}

interface Expectation {
  step: string;
  subject: string;
  label: string;
  /** true: status must be "0"; false: must be non-zero (a check that has to fail). */
  wantZero: boolean;
}

function expectations(plan: VmPlan, names: { extra: string[]; late: string[] }): Expectation[] {
  const list: Expectation[] = [];
  plan.extraModules.forEach((file, i) => {
    list.push({ step: 'load-extra', subject: file, label: `load ${names.extra[i]}`, wantZero: true });
  });
  plan.checks.forEach((_, i) => {
    list.push({
      step: 'precheck',
      subject: String(i),
      label: `check #${i + 1} fails before loading`,
      wantZero: false,
    });
  });
  for (const patch of plan.livepatches) {
    list.push({ step: 'insmod', subject: patch.name, label: `insmod ${patch.name}`, wantZero: true });
    list.push({
      step: 'transition',
      subject: patch.name,
      label: `${patch.name}: transition complete`,
      wantZero: true,
    });
  }
  plan.lateModules.forEach((file, i) => {
    list.push({
      step: 'load-late',
      subject: file,
      label: `load ${names.late[i]} after the patch`,
      wantZero: true,
    });
  });
  plan.checks.forEach((_, i) => {
    list.push({
      step: 'check',
      subject: String(i),
      label: `check #${i + 1} passes with the livepatch`,
      wantZero: true,
    });
  });
  if (plan.unload) {
    for (const patch of [...plan.livepatches].reverse()) {
      list.push({ step: 'disable', subject: patch.name, label: `disable ${patch.name}`, wantZero: true });
      list.push({ step: 'rmmod', subject: patch.name, label: `rmmod ${patch.name}`, wantZero: true });
    }
    plan.checks.forEach((_, i) => {
      list.push({
        step: 'postcheck',
        subject: String(i),
        label: `check #${i + 1} fails after unloading`,
        wantZero: false,
      });
    });
  }
  return list;
}

function failureDetail(expect: Expectation, status: string, parsed: ParsedConsole): string {
  if (expect.step === 'precheck') {
    return 'the check already passes without the livepatch, so it proves nothing; make it test the new behaviour';
  }
  if (expect.step === 'postcheck') return 'the check still passes after the livepatch was removed';
  if (expect.step === 'transition' || expect.step === 'disable') {
    return status === 'timeout' ? 'the patch transition did not complete in time' : `status ${status}`;
  }
  if (expect.step === 'insmod' || expect.step.startsWith('load')) {
    const name = expect.subject.replace(/^.*\//, '').replace(/\.ko$/, '');
    const words = loaderMessages(parsed.dmesg, name);
    return words.length > 0 ? `the kernel said: ${words.join(' | ')}` : `failed with status ${status}`;
  }
  return `exit status ${status}`;
}

/**
 * Turns what the VM reported into one verdict per step. Every step the plan asked for must have been
 * reported with the wanted outcome, and the kernel log must be free of traces and livepatch errors.
 */
export function judgeRun(
  plan: VmPlan,
  parsed: ParsedConsole,
  names: { extra: string[]; late: string[] },
  timedOut: boolean,
  allowedWarnings: readonly RegExp[] = [],
): VerifyStep[] {
  const steps: VerifyStep[] = [];
  if (!parsed.booted) {
    steps.push({
      name: 'boot',
      ok: false,
      detail: timedOut ? 'the VM did not reach /init before the timeout' : 'the VM never reached /init',
      output: [],
    });
    return steps;
  }
  steps.push({ name: 'boot', ok: true, detail: 'reached /init', output: [] });
  for (const expect of expectations(plan, names)) {
    const event = parsed.events.find((e) => e.step === expect.step && e.subject === expect.subject);
    if (!event) {
      // An earlier failure stopped the script; steps after it were never run.
      if (steps.some((s) => !s.ok)) break;
      const why = timedOut ? 'the VM timed out before this step' : 'the VM stopped before this step';
      steps.push({ name: expect.label, ok: false, detail: why, output: [] });
      break;
    }
    const ok = expect.wantZero ? event.status === '0' : event.status !== '0';
    const detail = ok ? (expect.wantZero ? 'ok' : `failed as expected (status ${event.status})`) : '';
    steps.push({
      name: expect.label,
      ok,
      detail: ok ? detail : failureDetail(expect, event.status, parsed),
      output: event.output,
    });
  }
  // The dump is missing when the guest died; then the console is all there is.
  const problems = findKernelProblems(
    parsed.dmesg.length > 0 ? parsed.dmesg : parsed.kernelLines,
    allowedWarnings,
  );
  steps.push({
    name: 'kernel log clean',
    ok: problems.length === 0,
    detail: problems.length === 0 ? 'no Call Trace or livepatch error' : problems.slice(0, 5).join(' | '),
    output: [],
  });
  return steps;
}
