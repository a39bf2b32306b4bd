import { UsageError } from '../errors.js';
import type { TargetSpec } from './target.js';

const RELEASE = /^[0-9][0-9A-Za-z.+_~-]*$/;

/** Parses `debian:<release>`, `debian:latest` or `test`. */
export function parseTargetSpec(text: string): TargetSpec {
  if (text === 'test') return { kind: 'test' };
  const [distro, release, ...rest] = text.split(':');
  if (
    distro === 'debian' &&
    release &&
    rest.length === 0 &&
    (release === 'latest' || RELEASE.test(release))
  ) {
    return { kind: 'debian', release };
  }
  throw new UsageError(`unknown target "${text}"`, {
    hint: 'use debian:latest, debian:<release> (e.g. debian:6.1.0-56-amd64) or test',
  });
}
