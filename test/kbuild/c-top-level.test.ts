import { describe, expect, it } from 'vitest';
import { scanTopLevel } from '../../src/kbuild/c-top-level.js';

describe('scanTopLevel', () => {
  it.each([
    ['static inline int f(int a) { return a + 1; }', ['f'], true],
    ['static __always_inline struct task_struct *get_current(void) { return 0; }', ['get_current'], true],
    ['extern struct task_struct *find_task(pid_t nr);', ['find_task'], true],
    ['void proc_mark(struct seq_file *m);', ['proc_mark'], true],
    ['static inline __printf(1, 2) void say(const char *fmt, ...) {}', ['say'], true],
    ['#define task_is_running(t) ((t)->state == 0)', ['task_is_running'], true],
    ['struct forward;', ['forward'], true],
    ['struct s { int a; } __packed;', ['s'], true],
    ['struct s { int a; } instance;', ['s', 'instance'], false],
    ['typedef void (*handler_t)(int);', ['handler_t'], true],
    ['enum { A = 1, B };', ['A', 'B'], true],
    ['int counter;', ['counter'], false],
    ['int answer = 42;', ['answer'], false],
    ['inline int g(void) { return 1; }', ['g'], false],
    ['static int __used kept(void) { return 1; }', ['kept'], false],
    ['DECLARE_PER_CPU(int, cpu_number);', undefined, true],
    ['static DEFINE_MUTEX(lock);', undefined, true],
    [
      'static inline bool __must_check IS_ERR_OR_NULL(const void *ptr) { return !ptr; }',
      ['IS_ERR_OR_NULL'],
      true,
    ],
  ])('%s defines %j (on demand: %s)', (source, names, onDemand) => {
    const [item] = scanTopLevel(source).items;
    expect(item?.names).toEqual(names);
    if (names) expect(item?.onDemand).toBe(onDemand);
  });

  it('splits a header into items, with their conditionals, and drops comments', () => {
    const top = scanTopLevel(
      [
        '#ifndef _X_H',
        '#define _X_H',
        '#include <linux/types.h>',
        '/* a comment */',
        '#ifdef CONFIG_A',
        'static inline int a(void) {',
        '#ifdef CONFIG_B',
        '  return 2; // two',
        '#endif',
        '  return 1;',
        '}',
        '#else',
        'static inline int a(void) { return 0; }',
        '#endif',
        '#endif',
      ].join('\n'),
    );
    expect(top.items.map((i) => [i.names, i.context])).toEqual([
      [['_X_H'], '#ifndef _X_H'],
      [['a'], '#ifndef _X_H | #ifdef CONFIG_A'],
      [['a'], '#ifndef _X_H | #else'],
    ]);
    expect(top.items[1]!.mentions.has('CONFIG_B')).toBe(true);
    expect(top.items[1]!.text).not.toContain('two');
    expect(top.directives).toEqual(['#ifndef _X_H #include <linux/types.h>']);
    expect([...top.directiveMentions].sort()).toEqual(['CONFIG_A', '_X_H', 'h', 'linux', 'types']);
  });

  it('keeps string literals and numbers in an item text, so a changed constant changes the item', () => {
    const before = scanTopLevel('static const char c[] = "RSDI"; static int n(void) { return 1; }');
    const after = scanTopLevel('static const char c[] = "RSDK"; static int n(void) { return 2; }');
    expect(before.items.map((i) => i.text)).not.toEqual(after.items.map((i) => i.text));
    expect(before.items[0]!.text).not.toEqual(after.items[0]!.text);
    expect(before.items[1]!.text).not.toEqual(after.items[1]!.text);
  });
});
