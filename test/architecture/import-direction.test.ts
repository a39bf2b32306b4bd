import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../src/', import.meta.url).pathname;

/** The src/ folder a file belongs to ("(root)" for src/errors.ts). */
const folderOf = (file: string) => {
  const parts = relative(SRC, file).split('/');
  return parts.length > 1 ? parts[0]! : '(root)';
};

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

describe('src/ folders', () => {
  it('import one way: no two folders import each other (docs/architecture.md)', async () => {
    const imports = new Map<string, Set<string>>();
    const examples = new Map<string, string>();
    for (const file of await sourceFiles(SRC)) {
      const from = folderOf(file);
      for (const m of (await readFile(file, 'utf8')).matchAll(/from '(\.[^']+)'/g)) {
        const to = folderOf(normalize(join(dirname(file), m[1]!)));
        if (to === from) continue;
        if (!imports.has(from)) imports.set(from, new Set());
        imports.get(from)!.add(to);
        examples.set(`${from}->${to}`, relative(SRC, file));
      }
    }
    const both = [...imports].flatMap(([a, targets]) =>
      [...targets]
        .filter((b) => a < b && imports.get(b)?.has(a))
        .map((b) => `${a} <-> ${b} (${examples.get(`${a}->${b}`)}, ${examples.get(`${b}->${a}`)})`),
    );
    expect(both).toEqual([]);
    expect(imports.get('pipeline')?.size).toBeGreaterThan(3); // the scan sees real imports
  });
});
