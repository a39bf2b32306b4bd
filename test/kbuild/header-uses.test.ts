import { describe, expect, it } from 'vitest';
import { describeHeaderChange, findUses } from '../../src/kbuild/header-uses.js';

const HEADER = [
  '#ifndef _S_H',
  '#define _S_H',
  '#include <linux/types.h>',
  '/* the state letters */',
  'static inline char state_char(unsigned int s) { return "RSD"[s]; }',
  'static inline char task_char(struct task *t) { return state_char(t->state); }',
  '#define TASK_CHAR(t) task_char(t)',
  'int proc_show(struct seq_file *m);',
  '#ifdef CONFIG_X',
  'static inline int only_x(void) { return 1; }',
  '#endif',
  '#endif',
].join('\n');

const edit = (from: string, to: string) => {
  if (!HEADER.includes(from)) throw new Error(`not in the header: ${from}`);
  return HEADER.replace(from, to);
};

describe('describeHeaderChange', () => {
  it.each([
    ['a comment', edit('the state letters', 'state letters'), [], undefined],
    ['an inline body', edit('"RSD"[s]', '"RSK"[s]'), ['state_char'], undefined],
    ['a macro', edit('task_char(t)\n', '(task_char(t) + 0)\n'), ['TASK_CHAR'], undefined],
    ['a new prototype', edit('int proc_show', 'void mark(void);\nint proc_show'), ['mark'], undefined],
    [
      'an inline moved out of #ifdef',
      edit('#ifdef CONFIG_X\n', '').replace('#endif\n#endif', '#endif'),
      ['only_x'],
      undefined,
    ],
    [
      'an #include',
      edit('#include <linux/types.h>', '#include <linux/kernel.h>'),
      [],
      /directive: #ifndef _S_H #include <linux\/types\.h>/,
    ],
    [
      'a macro invocation',
      `${HEADER}\nDECLARE_PER_CPU(int, x);`,
      [],
      /cannot tell what it defines: DECLARE_PER_CPU/,
    ],
    [
      'a non-static definition',
      `${HEADER}\nint counter = 1;`,
      [],
      /emitted by every includer: int counter = 1/,
    ],
  ])('%s', (_, patched, names, unprunable) => {
    const change = describeHeaderChange(HEADER, patched);
    if (unprunable) expect(change.unprunable).toMatch(unprunable);
    else {
      expect(change.unprunable).toBeUndefined();
      expect([...change.names].sort()).toEqual(names);
    }
  });

  it('sees an inline moved between #ifdef branches as changed', () => {
    const moved = edit(
      '#ifdef CONFIG_X\nstatic inline int only_x(void) { return 1; }\n#endif',
      '#ifdef CONFIG_X\n#else\nstatic inline int only_x(void) { return 1; }\n#endif',
    );
    expect(describeHeaderChange(HEADER, moved)).toEqual({ names: new Set(['only_x']) });
  });
});

describe('findUses', () => {
  const files: Record<string, string> = {
    'include/s.h': HEADER,
    'include/other.h':
      'static inline int uses_task_char(struct task *t) { return TASK_CHAR(t); }\n#if STATE_DEBUG\n#endif',
    'include/cond.h': '#if defined(state_char)\nint x;\n#endif',
    'include/unrelated.h': 'static inline int state(void) { return 0; }',
    'kernel/a.c': 'int f(struct task *t) { return uses_task_char(t); }',
    'kernel/b.c': 'int g(void) { return state(); }',
    'kernel/c.c': 'int h(struct task *t) { return task_char(t); }',
  };
  const readText = async (file: string) => files[file] ?? '';

  it('closes the names over inlines and macros that reach them, and lists the files using any', async () => {
    const uses = await findUses(new Set(['state_char']), { files: Object.keys(files), readText });
    expect([...uses.names].sort()).toEqual(['TASK_CHAR', 'state_char', 'task_char', 'uses_task_char']);
    expect([...uses.files].sort()).toEqual(['include/cond.h', 'kernel/a.c', 'kernel/c.c']);
  });

  it('finds no use of a name nothing mentions', async () => {
    const uses = await findUses(new Set(['mark']), { files: Object.keys(files), readText });
    expect(uses.files.size).toBe(0);
  });
});
