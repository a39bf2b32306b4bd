import { UnsupportedChangeError } from '../errors.js';

export type RefusalKind =
  | 'changed-data'
  | 'data-size-changed'
  | 'init-exit-code'
  | 'no-fentry'
  | 'grouped-section'
  | 'relocation-type'
  | 'static-local-removed'
  | 'no-function-sections'
  | 'module-static-key'
  | 'module-static-call'
  | 'struct-size-unknown';

/** One reason the change cannot become a livepatch, with what to do instead. */
export interface Refusal {
  kind: RefusalKind;
  /** The object file the change is in. */
  object: string;
  /** Section or symbol concerned. */
  where: string;
  message: string;
  hint: string;
}

export function formatRefusal(refusal: Refusal): string {
  return `${refusal.object}: ${refusal.message}\n  hint: ${refusal.hint}`;
}

/** Throws one error (exit 2) listing every refusal, so a patch author sees all problems at once. */
export function throwIfRefused(refusals: readonly Refusal[]): void {
  if (refusals.length === 0) return;
  const lines = refusals.map(formatRefusal).join('\n');
  const first = refusals[0]!;
  throw new UnsupportedChangeError(
    `${refusals.length} unsupported change${refusals.length === 1 ? '' : 's'}:\n${lines}`,
    { hint: first.hint },
  );
}
