import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IncludeGraph } from '../../src/kbuild/include-graph.js';
import {
  buildIncludeGraph,
  closureOf,
  findIncluders,
  IncludeScanner,
  includeContextOf,
  listTreeFiles,
  parseIncludes,
} from '../../src/kbuild/include-graph.js';

const FLAGS = '-nostdinc -I./include -I./arch/x86/include -include ./include/linux/kconfig.h';
const TREE: Record<string, string> = {
  'include/linux/kconfig.h': '#define IS_ENABLED(x) 1\n',
  'include/linux/sched.h': '#include <linux/types.h>\n#include <asm/current.h>\n',
  'include/linux/types.h': '',
  'arch/x86/include/asm/current.h': '#ifdef NEVER\n#include <linux/never.h>\n#endif\n',
  'include/linux/never.h': '',
  'fs/proc/internal.h': '#include <linux/sched.h>\n',
  'fs/proc/stat.c': '#include <linux/types.h>\n#include "internal.h"\n',
  'fs/proc/cmdline.c': '#include <linux/types.h>\n',
  'mm/internal.h': '',
  'mm/memory.c': '#include "internal.h"\n',
  'kernel/trace/events.c': '#include <trace/define_trace.h>\n',
  'include/trace/define_trace.h': '#include TRACE_INCLUDE(TRACE_INCLUDE_FILE)\n',
  'drivers/acpi/tables.c': '#include CONFIG_ACPI_CUSTOM_DSDT_FILE\n',
  'drivers/net/local/x.c': '#include "local.h"\n',
  'drivers/net/local/include/local.h': '#include_next <linux/types.h>\n',
  'drivers/cpufreq/pstate.c': '#include "../drivers/thermal/intr.h"\n',
  'drivers/thermal/intr.h': '',
};

let root: string;
let graph: IncludeGraph;
const object = (source: string, extra = '') => ({
  target: source.replace(/\.c$/, '.o'),
  source,
  command: `gcc ${FLAGS} ${extra} -c -o ${source.replace(/\.c$/, '.o')} ${source}`,
});

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'include-graph-'));
  for (const [path, text] of Object.entries(TREE)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  const objects = Object.keys(TREE)
    .filter((p) => p.endsWith('.c'))
    .map((p) => (p.startsWith('drivers/net') ? object(p, '-I ./drivers/net/local/include') : object(p)));
  graph = await buildIncludeGraph(new IncludeScanner(root, await listTreeFiles(root)), objects);
});

describe('parseIncludes and includeContextOf', () => {
  it('reads quoted, angled, include_next, assembler and computed includes', () => {
    expect(
      parseIncludes(
        '#include <a/b.h>\n # include "c.h"\n#include_next <d.h>\n.include "e.S"\n#include MACRO\n',
      ),
    ).toEqual({
      includes: [
        { name: 'a/b.h', quoted: false },
        { name: 'c.h', quoted: true },
        { name: 'd.h', quoted: false },
        { name: 'e.S', quoted: true },
      ],
      computed: true,
    });
    expect(parseIncludes('#include TRACE_INCLUDE(TRACE_INCLUDE_FILE)\n').computed).toBe(false);
  });

  it('reads -I, -iquote, -isystem and -include, only of the first compile', () => {
    const context = includeContextOf(
      'gcc -I./include -Iarch/x86/include -iquote fs -isystem /usr/lib/gcc/include -include ./include/linux/kconfig.h -c -o a.o a.c ; objtool -I x',
      '/tree',
    );
    expect(context.dirs).toEqual(['include', 'arch/x86/include', 'fs', '/usr/lib/gcc/include']);
    expect(context.forced).toEqual(['include/linux/kconfig.h']);
  });
});

describe('findIncluders', () => {
  it.each([
    ['include/linux/sched.h', ['fs/proc/stat.o']],
    ['fs/proc/internal.h', ['fs/proc/stat.o']],
    ['mm/internal.h', ['mm/memory.o']],
    // a quoted "../" path found through -I./include, not beside the includer
    ['drivers/thermal/intr.h', ['drivers/cpufreq/pstate.o']],
    // every #include counts, whatever #if surrounds it
    ['include/linux/never.h', ['fs/proc/stat.o']],
    // the forced -include reaches every object
    [
      'include/linux/kconfig.h',
      [
        'drivers/acpi/tables.o',
        'drivers/cpufreq/pstate.o',
        'drivers/net/local/x.o',
        'fs/proc/cmdline.o',
        'fs/proc/stat.o',
        'kernel/trace/events.o',
        'mm/memory.o',
      ],
    ],
    ['include/linux/types.h', ['drivers/net/local/x.o', 'fs/proc/cmdline.o', 'fs/proc/stat.o']],
  ])('%s is reached from %j', (file, objects) => {
    const found = findIncluders(graph, (f) => f === file);
    expect(found.objects.map((o) => o.target).sort()).toEqual(objects);
  });

  it('reports the objects behind a computed include as unknown, not the trace headers re-include', () => {
    const found = findIncluders(graph, (f) => f === 'include/linux/types.h');
    expect(found.unknown.map((o) => o.target)).toEqual(['drivers/acpi/tables.o']);
  });

  it('lists every file an object may read', () => {
    expect([...closureOf(graph, 'fs/proc/stat.o')].sort()).toEqual([
      'arch/x86/include/asm/current.h',
      'fs/proc/internal.h',
      'fs/proc/stat.c',
      'include/linux/kconfig.h',
      'include/linux/never.h',
      'include/linux/sched.h',
      'include/linux/types.h',
    ]);
  });
});
