/**
 * Header changes without a full build. A built tree (-s) knows its includers from kbuild's records; a
 * prepared distro tree learns them from its configured objects (make -n) and the include graph, a
 * superset the preprocessor (-M) then narrows. Either way the includers that use nothing the change
 * defines are pruned (src/kbuild/header-uses.ts), and only the rest are compiled twice.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfiguredObject } from '../../kbuild/configured-objects.js';
import { listConfiguredObjects } from '../../kbuild/configured-objects.js';
import type { ChangedHeader, HeaderImpact, IncluderIndex } from '../../kbuild/header-impact.js';
import {
  assessHeaderChanges,
  kbuildIncluderIndex,
  textualIncluderIndex,
} from '../../kbuild/header-impact.js';
import { buildIncludeGraph, IncludeScanner, listTreeFiles } from '../../kbuild/include-graph.js';
import type { KbuildIndex } from '../../kbuild/kbuild-index.js';
import { buildKbuildIndex } from '../../kbuild/kbuild-index.js';
import { preprocessorDeps } from '../../kbuild/preprocessor-deps.js';
import { patchedText } from '../../patch/patched-text.js';
import type { BuildRun } from '../build-run.js';

/** What the header analysis found, for the log and the JSON report. */
export interface HeaderSummary {
  headers: string[];
  /** Configured objects looked at (every object of the tree's configuration). */
  indexed: number;
  /** Objects including a changed header. */
  includers: number;
  /** Includers that use nothing the change defines: not compiled. */
  pruned: number;
  /** Objects compiled twice for the headers. */
  compiled: string[];
  /** The changed names and the inline/macro names reaching them. */
  names: string[];
  unprunable?: string;
}

export interface HeaderPlan {
  summary: HeaderSummary;
  /** The objects to compile for the header changes. */
  kept: Set<string>;
}

const isHeader = (file: string) => file.endsWith('.h');

/** The changed headers, before and after the patches. */
async function changedHeaders(run: BuildRun, touched: readonly string[]): Promise<ChangedHeader[]> {
  return Promise.all(
    touched.filter(isHeader).map(async (path) => ({
      path,
      original: await readFile(join(run.patchRoot, path), 'latin1').catch(() => ''),
      patched: await patchedText(run.patchRoot, run.patches, path, run.job.allowFuzz),
    })),
  );
}

function summarize(impact: HeaderImpact, indexed: number, kept: readonly string[]): HeaderSummary {
  return {
    headers: impact.headers,
    indexed,
    includers: impact.includers.length,
    pruned: impact.includers.length - impact.kept.length,
    compiled: [...kept].sort(),
    names: impact.names,
    ...(impact.unprunable ? { unprunable: impact.unprunable } : {}),
  };
}

function announce(run: BuildRun, summary: HeaderSummary): void {
  const why = summary.unprunable
    ? `nothing pruned: ${summary.unprunable}`
    : `${summary.pruned} use nothing the change defines${summary.names.length > 0 ? ` (${summary.names.slice(0, 6).join(', ')}${summary.names.length > 6 ? ', …' : ''})` : ''}`;
  run.emit({
    kind: 'note',
    message:
      `${summary.headers.join(', ')}: ${summary.includers} of ${summary.indexed} objects include it; ` +
      `${why}; compiling ${summary.compiled.length}`,
  });
}

/** A built tree: kbuild's dependency records are exact; only the pruning is left. */
export async function planRecordedHeaders(
  run: BuildRun,
  index: KbuildIndex,
  touched: readonly string[],
): Promise<HeaderPlan | undefined> {
  // an external module's index names its files by absolute path; its headers reach few objects anyway
  if (run.oot) return undefined;
  const changes = await changedHeaders(run, touched);
  if (changes.length === 0) return undefined;
  const impact = await assessHeaderChanges(
    run.patchRoot,
    changes,
    kbuildIncluderIndex(index),
    run.ctx.signal,
  );
  const summary = summarize(impact, index.objects.size, impact.kept);
  announce(run, summary);
  return { summary, kept: new Set(impact.kept) };
}

/**
 * Every object of the configuration: make's dry run lists those it would compile, so objects an earlier
 * run already compiled in the tree (single objects) come from their kbuild records instead.
 */
async function configuredObjects(run: BuildRun): Promise<ConfiguredObject[]> {
  const { target, ctx } = run;
  const listed = await listConfiguredObjects(target.tree, {
    make: target.toolchain.make,
    logDir: run.workDir,
    signal: ctx.signal,
    onCommand: ctx.onCommand,
  });
  const byTarget = new Map(listed.map((o) => [o.target, o]));
  const recorded = await buildKbuildIndex(target.tree, { signal: ctx.signal });
  for (const object of recorded.objects.values()) {
    if (!byTarget.has(object.target)) byTarget.set(object.target, object);
  }
  return [...byTarget.values()];
}

/** Runs `fn` over `items`, `jobs` at a time. */
async function eachLimited<T>(
  items: readonly T[],
  jobs: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
}

/**
 * A prepared tree: the configured objects and their include graph give the includers (a superset); the
 * pruning keeps those that use the change; the preprocessor confirms each kept one really includes a
 * changed header, and settles the objects whose computed includes the text cannot follow.
 */
export async function planPreparedHeaders(
  run: BuildRun,
  touched: readonly string[],
): Promise<HeaderPlan | undefined> {
  if (run.oot || run.target.touched === 'recorded') return undefined;
  const changes = await changedHeaders(run, touched);
  if (changes.length === 0) return undefined;
  const { target, ctx } = run;
  run.emit({ kind: 'phase', message: 'Finding the objects the header change reaches' });
  const objects = await configuredObjects(run);
  ctx.onProgress(`reading the include graph of ${objects.length} configured objects`);
  const scanner = new IncludeScanner(target.tree, await listTreeFiles(target.tree, ctx.signal));
  const graph = await buildIncludeGraph(scanner, objects, ctx.signal);
  const index: IncluderIndex = textualIncluderIndex(graph);
  ctx.onProgress(`finding the includers that use what the change defines`);
  const impact = await assessHeaderChanges(target.tree, changes, index, ctx.signal);
  const headers = new Set(impact.headers);
  const byTarget = new Map(objects.map((o) => [o.target, o]));
  const candidates = [...impact.kept, ...impact.unknown];
  const confirmed: string[] = [];
  await eachLimited(candidates, ctx.jobs, async (object) => {
    const deps = await preprocessorDeps(object, {
      tree: target.tree,
      command: byTarget.get(object)!.command,
      wrap: target.toolchain.command,
      signal: ctx.signal,
    });
    if (deps.some((d) => headers.has(d))) confirmed.push(object);
  });
  const summary = summarize(impact, objects.length, confirmed);
  announce(run, summary);
  return { summary, kept: new Set(confirmed) };
}
