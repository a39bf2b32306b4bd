/**
 * Unpacking RPM packages without rpm2cpio/cpio: the payload's byte range is streamed through the system
 * decompressor, CpioToTar, TarGuard and GNU tar (extract-tar.ts), into a staging directory that is renamed
 * into place only when every package succeeded. Digests are checked first (rpm-format.ts).
 */
import { createReadStream } from 'node:fs';
import { SourceError } from '../errors.js';
import { CpioToTar } from './cpio-to-tar.js';
import { extractPackagesInto } from './extract-packages.js';
import { extractTarStream } from './extract-tar.js';
import { type RpmInfo, readRpm } from './rpm-format.js';
import type { ExtractionLedger } from './safe-extract.js';
import type { MemberFilter, TarMember } from './tree-paths.js';

export interface RpmExtractOptions {
  /** Globs (matched after `strip`, "./" ignored) or a predicate. */
  filter?: MemberFilter;
  strip?: number;
  signal?: AbortSignal;
  /** Replace an existing non-empty destination. Default: refuse with SourceError. */
  replace?: boolean;
  /** Check the RPM's own digests first (default true). */
  verify?: boolean;
  onEntry?: (member: TarMember, rpm: string) => void;
}

export interface RpmExtractResult {
  dir: string;
  written: number;
  skipped: number;
  packages: RpmInfo[];
}

/** Extracts the payload of one RPM into the existing directory `dir` (no staging). */
export async function extractRpmPayload(
  rpm: string,
  dir: string,
  options: RpmExtractOptions & { ledger?: ExtractionLedger } = {},
): Promise<{ written: number; skipped: number; info: RpmInfo }> {
  const info = await readRpm(rpm, { verify: options.verify });
  if (info.payloadFormat !== 'cpio') {
    throw new SourceError(`${rpm}: unsupported payload format "${info.payloadFormat}"`, {
      hint: 'only cpio payloads are supported',
    });
  }
  const where = `${rpm} (payload)`;
  const source = createReadStream(rpm, { start: info.payloadOffset, highWaterMark: 1 << 20 });
  const summary = await extractTarStream(source, dir, {
    where,
    compression: info.compression,
    convert: () => new CpioToTar(where),
    strip: options.strip,
    filter: options.filter,
    ledger: options.ledger,
    signal: options.signal,
    onEntry: options.onEntry && ((m) => options.onEntry?.(m, rpm)),
  });
  return { ...summary, info };
}

/** Extracts several RPMs into one tree at `dest`, all or nothing. */
export async function extractRpms(
  rpms: readonly string[],
  dest: string,
  options: RpmExtractOptions = {},
): Promise<RpmExtractResult> {
  const { results, ...summary } = await extractPackagesInto(
    dest,
    rpms,
    (rpm, dir, ledger) => extractRpmPayload(rpm, dir, { ...options, ledger }),
    { replace: options.replace },
  );
  return { ...summary, packages: results.map((r) => r.info) };
}

export function extractRpm(
  rpm: string,
  dest: string,
  options: RpmExtractOptions = {},
): Promise<RpmExtractResult> {
  return extractRpms([rpm], dest, options);
}
