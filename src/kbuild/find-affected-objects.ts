/**
 * From a set of changed files to the objects that must be recompiled: every object whose source or
 * recorded dependencies (fixdep's list, config switches excluded) include a changed file. A header
 * that feeds many objects is reported separately, so the caller can stop before compiling hundreds.
 */
import type { KbuildIndex } from './kbuild-index.js';
import { indexPath } from './kbuild-index.js';
import type { ObjectParent, ParentResolver } from './object-parent.js';

export interface AffectedObject {
  target: string;
  source: string;
  /** The changed files this object depends on. */
  causes: string[];
  parent: ObjectParent;
}

export interface WideChange {
  file: string;
  count: number;
  objects: string[];
}

export interface AffectedObjects {
  objects: AffectedObject[];
  /** Changed files that reach more than `wideThreshold` objects, most objects first. */
  wide: WideChange[];
  /** Changed files no compiled object depends on (not built in this config, or not C at all). */
  unused: string[];
}

export interface FindAffectedObjectsOptions {
  /** A changed file reaching more objects than this is listed in `wide`. Default 20. */
  wideThreshold?: number;
}

/** Objects affected by `changedFiles` (paths relative to the tree root, or absolute inside it). */
export function findAffectedObjects(
  index: KbuildIndex,
  parents: ParentResolver,
  changedFiles: readonly string[],
  options: FindAffectedObjectsOptions = {},
): AffectedObjects {
  const threshold = options.wideThreshold ?? 20;
  const causes = new Map<string, string[]>();
  const wide: WideChange[] = [];
  const unused: string[] = [];
  for (const changed of changedFiles) {
    const file = indexPath(index, changed);
    const objects = index.dependents.get(file) ?? [];
    if (objects.length === 0) unused.push(file);
    if (objects.length > threshold) wide.push({ file, count: objects.length, objects: [...objects].sort() });
    for (const object of objects) {
      const list = causes.get(object);
      if (list) list.push(file);
      else causes.set(object, [file]);
    }
  }
  const objects = [...causes.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([target, files]) => ({
      target,
      source: index.objects.get(target)?.source ?? '',
      causes: files,
      parent: parents.parentOf(target),
    }));
  wide.sort((a, b) => b.count - a.count);
  return { objects, wide, unused };
}
