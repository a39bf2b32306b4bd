import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffObjects } from '../../src/diff/create-diff-object.js';
import { prepareTarget } from '../../src/distro/prepare-target.js';
import { compileObject } from '../../src/kbuild/compile-object.js';
import { assessHeaderChanges, kbuildIncluderIndex } from '../../src/kbuild/header-impact.js';
import type { IncludeGraph } from '../../src/kbuild/include-graph.js';
import {
  buildIncludeGraph,
  closureOf,
  findIncluders,
  IncludeScanner,
  listTreeFiles,
} from '../../src/kbuild/include-graph.js';
import type { KbuildIndex } from '../../src/kbuild/kbuild-index.js';
import { buildKbuildIndex } from '../../src/kbuild/kbuild-index.js';
import { withLock } from '../../src/source/lock.js';

// The header analysis against kbuild itself, on the fully built test kernel: kbuild's dependency records
// (fixdep) are the truth of which object reads which file. The include graph must never miss one; the
// pruning must never drop an includer whose code changes.
let tree: string;
let index: KbuildIndex;
let graph: IncludeGraph;
let work: string;

beforeAll(async () => {
  const target = await prepareTarget({ kind: 'test' });
  tree = target.sourceDir!;
  index = await buildKbuildIndex(tree);
  graph = await buildIncludeGraph(new IncludeScanner(tree, await listTreeFiles(tree)), [
    ...index.objects.values(),
  ]);
  work = await mkdtemp(join(tmpdir(), 'e2e-header-includers-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the include graph against kbuild', () => {
  it('finds every file kbuild recorded for every object (or reports the object as unknown)', () => {
    const deps = new Map<string, string[]>();
    for (const [file, objects] of index.dependents) {
      if (file.startsWith('/')) continue; // the compiler's own headers, outside the tree
      for (const object of objects) deps.set(object, [...(deps.get(object) ?? []), file]);
    }
    const unknown = new Set(findIncluders(graph, () => false).unknown.map((o) => o.target));
    const misses: string[] = [];
    let checked = 0;
    for (const [object, files] of deps) {
      // objtool's own objects: a separate build run in tools/objtool, its records relative to it
      if (unknown.has(object) || object.startsWith('tools/')) continue;
      const closure = closureOf(graph, object);
      for (const file of files) {
        checked++;
        if (!closure.has(file)) misses.push(`${object}: ${file}`);
      }
    }
    expect(misses).toEqual([]);
    expect(deps.size).toBeGreaterThan(600);
    expect(checked).toBeGreaterThan(100_000);
  });
});

interface HeaderEdit {
  name: string;
  file: string;
  from: string;
  to: string;
  /** An includer whose code the edit changes: the pruning must keep it (it is compiled to show the change). */
  changes?: string;
}

// Each edit keeps the line count, so line numbers (__LINE__ in WARN/BUG) stay put.
const EDITS: HeaderEdit[] = [
  {
    name: 'an inline changed',
    file: 'include/linux/sched.h',
    from: 'return task_index_to_char(task_state_index(tsk));',
    to: "return task_state_index(tsk) == 8 ? 'K' : task_index_to_char(task_state_index(tsk));",
    changes: 'kernel/sched/core.o',
  },
  {
    name: 'a prototype added',
    file: 'fs/proc/internal.h',
    from: 'int proc_readdir_de(struct file *, struct dir_context *, struct proc_dir_entry *);',
    to: 'int proc_readdir_de(struct file *, struct dir_context *, struct proc_dir_entry *); void proc_demo_mark(void);',
    changes: undefined,
  },
  {
    name: 'a comment changed',
    file: 'include/linux/seq_file.h',
    from: '#define SEQ_SKIP 1',
    to: '#define SEQ_SKIP 1 /* skip this record */',
    changes: undefined,
  },
  {
    name: 'a macro changed',
    file: 'fs/proc/internal.h',
    from: '#define PROC_NUMBUF 13',
    to: '#define PROC_NUMBUF 17',
    changes: 'fs/proc/base.o',
  },
  {
    name: 'a widely used inline changed',
    file: 'include/linux/list.h',
    from: 'return READ_ONCE(head->next) == head;\n}\n\n/**\n * list_del_init_careful',
    to: 'return READ_ONCE(head->next) == head || !head;\n}\n\n/**\n * list_del_init_careful',
    changes: 'kernel/workqueue.o',
  },
  {
    name: 'an arch header',
    file: 'arch/x86/include/asm/vdso/processor.h',
    from: 'asm volatile("rep; nop" ::: "memory");',
    to: 'asm volatile("rep; nop; nop" ::: "memory");',
    changes: 'kernel/panic.o',
  },
  {
    name: 'a struct member renamed',
    file: 'include/linux/seq_file.h',
    from: '\tsize_t pad_until;',
    to: '\tsize_t pad_until_renamed;',
    changes: undefined,
  },
  {
    name: 'an uppercase inline (IS_ERR_OR_NULL)',
    file: 'include/linux/err.h',
    from: 'return unlikely(!ptr) || IS_ERR_VALUE((unsigned long)ptr);',
    to: 'return unlikely(!ptr) || IS_ERR_VALUE((unsigned long)ptr) || ptr == (void *)1;',
    changes: 'fs/namei.o',
  },
  {
    name: 'a trace event, reached through the computed TRACE_INCLUDE',
    file: 'include/trace/events/sched.h',
    from: 'TP_printk("prev_comm=%s prev_pid=%d',
    to: 'TP_printk("prev_comm=%s prev_pid=%u',
    changes: 'kernel/sched/core.o',
  },
  {
    name: 'a header reached through a generated one (asm-generic/rwonce.h via arch/x86/include/generated)',
    file: 'include/asm-generic/rwonce.h',
    from: '#define __READ_ONCE(x)\t(*(const volatile __unqual_scalar_typeof(x) *)&(x))',
    to: '#define __READ_ONCE(x)\t(*(const volatile __unqual_scalar_typeof(x) *)&(x) )',
    changes: undefined,
  },
];

/** Up to `n` items spread over the list by a hash of their names (deterministic). */
function sample(items: readonly string[], n: number): string[] {
  const hash = (s: string) => createHash('sha256').update(s).digest('hex');
  return [...items].sort((a, b) => (hash(a) < hash(b) ? -1 : 1)).slice(0, n);
}

async function compileBoth(objects: readonly string[], file: string, original: string, patched: string) {
  const compile = (target: string, dir: string) =>
    compileObject({ tree, object: index.objects.get(target)!, workDir: join(work, dir) });
  const orig = await Promise.all(objects.map((o) => compile(o, 'orig')));
  await writeFile(join(tree, file), patched);
  try {
    const after = await Promise.all(objects.map((o) => compile(o, 'patched')));
    return objects.map((object, i) => ({ object, orig: orig[i]!.output, patched: after[i]!.output }));
  } finally {
    await writeFile(join(tree, file), original);
  }
}

async function changedFunctions(pair: { orig: string; patched: string }): Promise<string[]> {
  const { report } = diffObjects({
    origPath: pair.orig,
    orig: await readFile(pair.orig),
    patchedPath: pair.patched,
    patched: await readFile(pair.patched),
    parentSymbols: undefined,
  });
  return [...report.changedFunctions, ...report.newFunctions];
}

describe('pruning against the compiled objects', () => {
  it.each(EDITS)('$name: no pruned includer compiles differently', async (edit) => {
    const original = await readFile(join(tree, edit.file), 'latin1');
    expect(original).toContain(edit.from);
    const patched = original.replace(edit.from, edit.to);
    const impact = await assessHeaderChanges(
      tree,
      [{ path: edit.file, original, patched }],
      kbuildIncluderIndex(index),
    );
    expect(impact.includers.length).toBeGreaterThan(0);
    const kept = new Set(impact.kept);
    const pruned = impact.includers.filter((o) => !kept.has(o));
    const checkedPruned = sample(pruned, 6);
    if (edit.changes) expect(kept.has(edit.changes), `${edit.changes} must be kept`).toBe(true);
    const checkedKept = edit.changes ? [edit.changes] : [];
    const pairs = await withLock(join(tree, '.kpatch-build.lock'), () =>
      compileBoth([...checkedPruned, ...checkedKept], edit.file, original, patched),
    );
    for (const pair of pairs.filter((p) => checkedPruned.includes(p.object))) {
      expect({ object: pair.object, changed: await changedFunctions(pair) }).toEqual({
        object: pair.object,
        changed: [],
      });
    }
    for (const pair of pairs.filter((p) => checkedKept.includes(p.object))) {
      expect((await changedFunctions(pair)).length, `${pair.object} should change`).toBeGreaterThan(0);
    }
    console.log(
      `${edit.name}: ${impact.includers.length} includers, ${impact.kept.length} kept${impact.unprunable ? ` (${impact.unprunable})` : ''}`,
    );
  });
});
