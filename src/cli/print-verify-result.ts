import type { VerifyResult } from '../verify/verify-livepatch.js';

/** One line per klp-verify step, with the check's own output under it, then the verdict. */
export function printVerifyResult(
  result: Pick<VerifyResult, 'ok' | 'steps' | 'durationMs'>,
  out: NodeJS.WritableStream,
  prefix = 'klp-verify',
): void {
  for (const step of result.steps) {
    out.write(`${prefix}: ${step.ok ? 'PASS' : 'FAIL'} ${step.name}: ${step.detail}\n`);
    for (const line of step.output) out.write(`${prefix}:        | ${line}\n`);
  }
  const seconds = (result.durationMs / 1000).toFixed(1);
  out.write(`${prefix}: ${result.ok ? 'SUCCESS' : 'FAILED'} (VM ran ${seconds} s)\n`);
}
