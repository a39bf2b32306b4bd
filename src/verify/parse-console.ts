import { MARKER, OUTPUT_MARKER } from './init-script.js';

export interface ConsoleEvent {
  step: string;
  subject: string;
  status: string;
  /** What the command printed, in order. */
  output: string[];
}

export interface ParsedConsole {
  events: ConsoleEvent[];
  dmesg: string[];
  /** 'ok' or 'fail' when the guest reached the end of its script; undefined when it never did. */
  done: string | undefined;
  booted: boolean;
  /** Console lines outside the protocol: what the kernel printed itself (panics, oopses). */
  kernelLines: string[];
}

const MARKER_LINE = new RegExp(`^${MARKER} (\\S+) (\\S+) (\\S+)$`);
const OUTPUT_LINE = new RegExp(`^${OUTPUT_MARKER} (\\S+) (\\S+): ?(.*)$`);

/** Reads the marker protocol of init-script.ts out of a console log. */
export function parseConsole(text: string): ParsedConsole {
  const parsed: ParsedConsole = { events: [], dmesg: [], done: undefined, booted: false, kernelLines: [] };
  const pendingOutput = new Map<string, string[]>();
  let inDmesg = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const marker = MARKER_LINE.exec(line);
    if (marker) {
      const [, step = '', subject = '', status = ''] = marker;
      if (step === 'dmesg') {
        inDmesg = status === 'begin';
        continue;
      }
      if (step === 'done') {
        parsed.done = status;
        continue;
      }
      if (step === 'boot') {
        parsed.booted = true;
        continue;
      }
      const key = `${step} ${subject}`;
      parsed.events.push({ step, subject, status, output: pendingOutput.get(key) ?? [] });
      pendingOutput.delete(key);
      continue;
    }
    if (inDmesg) {
      parsed.dmesg.push(line);
      continue;
    }
    const output = OUTPUT_LINE.exec(line);
    if (output) {
      const [, step = '', subject = '', text = ''] = output;
      const key = `${step} ${subject}`;
      const list = pendingOutput.get(key) ?? [];
      list.push(text);
      pendingOutput.set(key, list);
      continue;
    }
    if (line.trim() !== '') parsed.kernelLines.push(line);
  }
  return parsed;
}

const PROBLEM_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/Call Trace:/, 'a Call Trace'],
  [/\bBUG: /, 'a kernel BUG'],
  [/\bOops\b/, 'an Oops'],
  [/Kernel panic/, 'a kernel panic'],
  [/livepatch: .*(failed|error|unable|not supported|can't|cannot)/i, 'a livepatch error'],
  [/WARNING: CPU: /, 'a kernel WARNING'],
];

/**
 * Lines of the kernel log that mean the verification cannot pass, each with a short label. A WARNING
 * whose line matches one of `allowedWarnings` is expected (a check provoking it on purpose): it and the
 * report after it, up to its "end trace" line, are not problems.
 */
export function findKernelProblems(
  dmesg: readonly string[],
  allowedWarnings: readonly RegExp[] = [],
): string[] {
  const problems: string[] = [];
  let inAllowedWarning = false;
  for (const line of dmesg) {
    if (inAllowedWarning) {
      if (/---\[ end trace/.test(line)) inAllowedWarning = false;
      continue;
    }
    if (/WARNING: CPU: /.test(line) && allowedWarnings.some((p) => p.test(line))) {
      inAllowedWarning = true;
      continue;
    }
    for (const [pattern, label] of PROBLEM_PATTERNS) {
      if (pattern.test(line)) {
        problems.push(`${label}: ${line.trim()}`);
        break;
      }
    }
  }
  return problems;
}

/**
 * The module loader's own words about a module that failed to load (e.g. "Unknown symbol x (err -2)"),
 * taken from the kernel log lines that name the module.
 */
export function loaderMessages(dmesg: readonly string[], moduleName: string): string[] {
  const pattern = new RegExp(`\\b${moduleName.replaceAll(/[-_]/g, '[-_]')}\\b`);
  return dmesg
    .map((line) => line.replace(/^\[\s*\d+\.\d+\]\s*/, '').trim())
    .filter((line) => pattern.test(line) && !/tainting kernel|loading out-of-tree module/.test(line));
}
