import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dependencyCommand, parseMakeRule, preprocessorDeps } from '../../src/kbuild/preprocessor-deps.js';

describe('preprocessorDeps', () => {
  it('rewrites a recorded compile into a dependency listing of the compile alone', () => {
    expect(
      dependencyCommand(
        `gcc -Wp,-MMD,fs/.a.o.d -I./include -DKBUILD_MODNAME='"a"' -c -o fs/a.o fs/a.c ; ./tools/objtool/objtool fs/a.o`,
      ),
    ).toBe(`gcc -I./include -DKBUILD_MODNAME='"a"' -M -MG fs/a.c`);
  });

  it('reads a make rule into tree-relative paths', () => {
    expect(parseMakeRule('fs/a.o: fs/a.c ./include/x.h \\\n /usr/lib/gcc/stdarg.h gen.h\n', '/tree')).toEqual(
      ['fs/a.c', 'include/x.h', '/usr/lib/gcc/stdarg.h', 'gen.h'],
    );
  });

  it("runs the real compiler: the object's includes, a missing generated header listed, not an error", async () => {
    const tree = await mkdtemp(join(tmpdir(), 'pp-deps-'));
    await mkdir(join(tree, 'include'), { recursive: true });
    await mkdir(join(tree, 'fs'), { recursive: true });
    await writeFile(join(tree, 'include/x.h'), '#ifdef NEVER\n#include "never.h"\n#endif\n');
    await writeFile(join(tree, 'fs/a.c'), '#include <x.h>\n#include "generated.h"\nint a;\n');
    const deps = await preprocessorDeps('fs/a.o', {
      tree,
      command: 'gcc -Wp,-MMD,fs/.a.o.d -nostdinc -I./include -c -o fs/a.o fs/a.c',
      wrap: (c) => c,
    });
    expect(deps).toEqual(['fs/a.c', 'include/x.h', 'generated.h']);
  });
});
