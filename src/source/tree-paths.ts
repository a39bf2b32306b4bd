/**
 * Paths inside an extraction root: vetting member names, selecting members with globs, and resolving
 * symlinks the way the extracted tree would see them if it were mounted at `/`.
 */
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SourceError } from '../errors.js';
import type { TarEntryType } from './tar-format.js';

export interface TarMember {
  /** Normalised path relative to the extraction root, after `strip`: "boot/vmlinuz-6.1.0-37-amd64". */
  path: string;
  /** The name as stored in the archive: "./boot/vmlinuz-6.1.0-37-amd64". */
  rawPath: string;
  type: TarEntryType;
  size: number;
  mode: number;
  /** Symlink text (verbatim) or hard-link target (normalised). */
  linkTarget?: string;
}

export function refuse(where: string, member: string, why: string): SourceError {
  return new SourceError(`${where}: refusing to extract member "${member}": ${why}`, {
    hint: 'the archive is malformed or crafted to write outside the destination; do not use it',
  });
}

/** Glob patterns (`*`, `?` within a path component, `**` across them; `./` prefix optional) or a predicate. */
export type MemberFilter = readonly string[] | ((path: string, member: TarMember) => boolean);

/** Splits a member name into safe components, or throws. An empty result means "the root itself". */
export function memberPathParts(raw: string, where: string): string[] {
  if (raw.includes('\0')) throw refuse(where, raw, 'name contains a NUL byte');
  if (raw.startsWith('/')) throw refuse(where, raw, 'absolute path');
  const parts = raw.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw refuse(where, raw, '".." would escape the destination');
  return parts;
}

function globToRegExp(glob: string): RegExp {
  const parts = memberPathParts(glob.replace(/^\.?\/+/, ''), `filter pattern "${glob}"`).join('/');
  let source = '';
  for (let i = 0; i < parts.length; i++) {
    const c = parts[i] ?? '';
    if (c === '*' && parts[i + 1] === '*') {
      const slash = parts[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** A pattern selects a member when it matches the member's path or one of its parent directories. */
export function compileFilter(
  filter: MemberFilter | undefined,
): ((path: string, m: TarMember) => boolean) | undefined {
  if (filter === undefined || typeof filter === 'function') return filter;
  const patterns = filter.map(globToRegExp);
  return (path) => {
    for (let end = path.length; end > 0; end = path.lastIndexOf('/', end - 1)) {
      const candidate = path.slice(0, end);
      if (patterns.some((re) => re.test(candidate))) return true;
    }
    return false;
  };
}

/**
 * Resolves `path` inside an extracted tree as if `root` were `/`: absolute symlink targets restart at
 * `root`, and `..` never climbs above it. E.g. resolveInRoot(root, 'lib/modules/6.1.0-37-amd64/build')
 * → `${root}/usr/src/linux-headers-6.1.0-37-amd64`. Missing components are appended unresolved.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const queue = path.split('/');
  const resolved: string[] = [];
  let hops = 0;
  let missing = false; // below a missing component there is nothing left to look up
  while (queue.length > 0) {
    const part = queue.shift() ?? '';
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    const stat = missing ? undefined : await lstat(candidate).catch(() => undefined);
    if (!stat) missing = true;
    if (!stat?.isSymbolicLink()) {
      resolved.push(part);
      continue;
    }
    if (++hops > 40) {
      throw new SourceError(`${join(root, path)}: too many levels of symbolic links`, {
        hint: 'the extracted tree has a symlink loop',
      });
    }
    const target = await readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    queue.unshift(...target.split('/'));
  }
  return join(root, ...resolved);
}
