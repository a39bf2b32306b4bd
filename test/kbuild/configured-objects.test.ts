import { describe, expect, it } from 'vitest';
import { parseDryRun } from '../../src/kbuild/configured-objects.js';

describe('parseDryRun', () => {
  it("reads kbuild's compile commands (C and assembler) out of make -n output, once per object", () => {
    const output = [
      "set -e;  echo '  CC      fs/proc/stat.o';    trap 'rm -f fs/proc/stat.o; trap - HUP; kill -s HUP $$' HUP; gcc-12 -Wp,-MMD,fs/proc/.stat.o.d -nostdinc -I./include -DKBUILD_MODNAME='\"proc\"' -c -o fs/proc/stat.o fs/proc/stat.c   ; ./tools/objtool/objtool --orc fs/proc/stat.o; scripts/basic/fixdep fs/proc/.stat.o.d fs/proc/stat.o 'gcc-12 -Wp,-MMD,fs/proc/.stat.o.d -c -o fs/proc/stat.o fs/proc/stat.c' > fs/proc/.stat.o.cmd",
      '  gcc -Wp,-MMD,arch/x86/entry/.entry_64.o.d -D__ASSEMBLY__ -c -o arch/x86/entry/entry_64.o arch/x86/entry/entry_64.S',
      'make[2]: Nothing to be done for x.',
    ].join('\n');
    expect(parseDryRun(output)).toEqual([
      {
        target: 'fs/proc/stat.o',
        source: 'fs/proc/stat.c',
        command: `gcc-12 -Wp,-MMD,fs/proc/.stat.o.d -nostdinc -I./include -DKBUILD_MODNAME='"proc"' -c -o fs/proc/stat.o fs/proc/stat.c`,
      },
      {
        target: 'arch/x86/entry/entry_64.o',
        source: 'arch/x86/entry/entry_64.S',
        command:
          'gcc -Wp,-MMD,arch/x86/entry/.entry_64.o.d -D__ASSEMBLY__ -c -o arch/x86/entry/entry_64.o arch/x86/entry/entry_64.S',
      },
    ]);
  });
});
