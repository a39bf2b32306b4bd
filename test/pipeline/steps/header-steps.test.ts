import { describe, expect, it } from 'vitest';
import { buildKbuildIndex } from '../../../src/kbuild/kbuild-index.js';
import { planRecordedHeaders } from '../../../src/pipeline/steps/header-steps.js';
import { filePatch, makeTree, writePatch } from '../../patch/support.js';
import { fakeJob, fakeRun, fakeTarget, recordingContext } from '../support.js';

const HEADER =
  'static inline int twice(int x) { return 2 * x; }\nstatic inline int thrice(int x) { return 3 * x; }\n';

/** kbuild's record of an object compiled from `source`, reading `deps` (fixdep's format). */
const record = (target: string, source: string, deps: string[]) =>
  [
    `savedcmd_${target} := gcc -c -o ${target} ${source}`,
    `source_${target} := ${source}`,
    `deps_${target} := \\`,
    ...deps.map((d) => `  ${d} \\`),
    '',
    `${target}: $(deps_${target})`,
    '',
  ].join('\n');

describe('planRecordedHeaders', () => {
  it("keeps the includers using a changed inline, from a built tree's records, and says so", async () => {
    const tree = await makeTree({
      'include/calc.h': HEADER,
      'a.c': '#include <calc.h>\nint a(int x) { return twice(x); }\n',
      'b.c': '#include <calc.h>\nint b(int x) { return thrice(x); }\n',
      'c.c': 'int c(void) { return 0; }\n',
      '.a.o.cmd': record('a.o', 'a.c', ['include/calc.h']),
      '.b.o.cmd': record('b.o', 'b.c', ['include/calc.h']),
      '.c.o.cmd': record('c.o', 'c.c', []),
    });
    const patch = await writePatch(
      tree,
      'p.patch',
      filePatch('include/calc.h', HEADER, HEADER.replace('2 * x', 'x + x + 1')),
    );
    const ctx = recordingContext();
    const run = fakeRun(fakeTarget(tree, { touched: 'recorded' }), ctx, fakeJob({ patches: [patch] }));
    const plan = await planRecordedHeaders(run, await buildKbuildIndex(tree), ['include/calc.h']);
    expect([...(plan?.kept ?? [])]).toEqual(['a.o']);
    expect(plan?.summary).toEqual({
      headers: ['include/calc.h'],
      indexed: 3,
      includers: 2,
      pruned: 1,
      compiled: ['a.o'],
      names: ['twice'],
    });
    expect(ctx.events).toContainEqual({
      kind: 'note',
      message:
        'include/calc.h: 2 of 3 objects include it; 1 use nothing the change defines (twice); compiling 1',
    });
  });

  it('has nothing to plan for a patch without headers', async () => {
    const tree = await makeTree({ 'c.c': 'int c;\n', '.c.o.cmd': record('c.o', 'c.c', []) });
    const run = fakeRun(fakeTarget(tree, { touched: 'recorded' }));
    expect(await planRecordedHeaders(run, await buildKbuildIndex(tree), ['c.c'])).toBeUndefined();
  });
});
