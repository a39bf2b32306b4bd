import { describe, expect, it } from 'vitest';
import { rewriteCompileCommand } from '../../src/kbuild/compile-object.js';
import { cmdFilePathFor, parseKbuildCmdFile } from '../../src/kbuild/kbuild-cmd-file.js';
import { quoteShellWord, shellWordValues, splitShellWords } from '../../src/kbuild/shell-words.js';

const CMD = `savedcmd_fs/proc/cmdline.o := gcc -Wp,-MMD,fs/proc/.cmdline.o.d -nostdinc -DKBUILD_MODNAME='"proc"' -DX='$$(pwd)' -c -o fs/proc/cmdline.o fs/proc/cmdline.c   ; ./tools/objtool/objtool --orc   fs/proc/cmdline.o

source_fs/proc/cmdline.o := fs/proc/cmdline.c

deps_fs/proc/cmdline.o := \\
  include/linux/compiler-version.h \\
    $(wildcard include/config/CC_VERSION_TEXT) \\
  include/linux/kconfig.h \\
  ./include/generated/autoconf.h \\

fs/proc/cmdline.o: $(deps_fs/proc/cmdline.o)

$(deps_fs/proc/cmdline.o):
`;

describe('parseKbuildCmdFile', () => {
  it('reads target, command (make escapes undone), source and real deps', () => {
    const parsed = parseKbuildCmdFile(CMD);
    expect(parsed).toMatchObject({
      target: 'fs/proc/cmdline.o',
      source: 'fs/proc/cmdline.c',
      deps: ['include/linux/compiler-version.h', 'include/linux/kconfig.h', 'include/generated/autoconf.h'],
      configDeps: ['include/config/CC_VERSION_TEXT'],
    });
    expect(parsed?.command).toContain(`-DX='$(pwd)'`);
  });
  it('accepts the pre-6.3 cmd_ spelling and absolute paths inside the root', () => {
    const text =
      'cmd_a/b.o := gcc -c -o a/b.o a/b.c\nsource_a/b.o := /k/a/b.c\ndeps_a/b.o := \\\n  /k/include/x.h \\\n\n';
    expect(parseKbuildCmdFile(text, '/k')).toMatchObject({
      target: 'a/b.o',
      source: 'a/b.c',
      deps: ['include/x.h'],
    });
  });
  it('is undefined for files without a command', () => {
    expect(parseKbuildCmdFile('# nothing\n')).toBeUndefined();
  });
  it('names the .cmd file of a target', () => {
    expect(cmdFilePathFor('fs/proc/cmdline.o')).toBe('fs/proc/.cmdline.o.cmd');
    expect(cmdFilePathFor('vmlinux.a')).toBe('.vmlinux.a.cmd');
  });
});

describe('splitShellWords', () => {
  it('keeps raw text exactly and decodes quoting', () => {
    const text = `gcc -DKBUILD_MODNAME='"cmd line"' -DA="x\\"y" a\\ b $(echo "x y") && nm  x.o|grep q;echo`;
    const tokens = splitShellWords(text);
    expect(tokens.map((t) => t.raw).join('')).toBe(text);
    expect(shellWordValues(text)).toEqual([
      'gcc',
      '-DKBUILD_MODNAME="cmd line"',
      '-DA=x"y',
      'a b',
      '$(echo "x y")',
      'nm',
      'x.o',
      'grep',
      'q',
      'echo',
    ]);
    expect(tokens.find((t) => t.kind === 'word' && t.value.startsWith('$('))).toMatchObject({
      dynamic: true,
    });
  });
  it('quotes only what needs quoting', () => {
    expect(quoteShellWord('/tmp/work/fs/proc/cmdline.o')).toBe('/tmp/work/fs/proc/cmdline.o');
    expect(quoteShellWord("it's here")).toBe(`'it'\\''s here'`);
  });
});

describe('rewriteCompileCommand', () => {
  const command = parseKbuildCmdFile(CMD)!.command;
  it('redirects the object and dep file, adds section flags, keeps the rest verbatim', () => {
    const out = rewriteCompileCommand({
      target: 'fs/proc/cmdline.o',
      source: 'fs/proc/cmdline.c',
      command,
      output: '/w/fs/proc/cmdline.o',
      depFile: '/w/fs/proc/.cmdline.o.d',
      flags: ['-ffunction-sections', '-fdata-sections'],
    });
    expect(out).toBe(
      `gcc -Wp,-MMD,/w/fs/proc/.cmdline.o.d -nostdinc -DKBUILD_MODNAME='"proc"' -DX='$(pwd)' -ffunction-sections -fdata-sections -c -o /w/fs/proc/cmdline.o fs/proc/cmdline.c   ; ./tools/objtool/objtool --orc   /w/fs/proc/cmdline.o`,
    );
  });
  it('substitutes another source file and kbuild temporaries', () => {
    const out = rewriteCompileCommand({
      target: 'a/b.o',
      source: 'a/b.c',
      command: 'gcc -c -o a/b.o a/b.c; ld -r -o a/b.o a/.tmp_b.o -T a/.tmp_b.ver',
      output: '/w/a/b.o',
      depFile: '/w/a/.b.o.d',
      sourceFile: '/p/a/b.c',
      flags: ['-ffunction-sections'],
    });
    expect(out).toBe(
      'gcc -ffunction-sections -c -o /w/a/b.o /p/a/b.c; ld -r -o /w/a/b.o /w/a/.tmp_b.o -T /w/a/.tmp_b.ver',
    );
  });
  // A single-object module of an IBT kernel (7.2's fs/binfmt_misc.o): objtool's --link pass belongs to
  // the livepatch's own link, so the copy is compiled without it; a per-object pass (no IBT) stays.
  it('drops the link-time objtool pass of a whole-module object, keeping what follows', () => {
    const out = rewriteCompileCommand({
      target: 'fs/binfmt_misc.o',
      source: 'fs/binfmt_misc.c',
      command:
        'gcc -c -o fs/binfmt_misc.o fs/binfmt_misc.c   ; ./tools/objtool/objtool --ibt --prefix=16 --orc --rethunk  --link  --module fs/binfmt_misc.o ; ld -r -o fs/.tmp_binfmt_misc.o fs/binfmt_misc.o',
      output: '/w/fs/binfmt_misc.o',
      depFile: '/w/fs/.binfmt_misc.o.d',
      flags: ['-ffunction-sections'],
    });
    expect(out).toBe(
      'gcc -ffunction-sections -c -o /w/fs/binfmt_misc.o fs/binfmt_misc.c; ld -r -o /w/fs/.tmp_binfmt_misc.o /w/fs/binfmt_misc.o',
    );
  });
  it('refuses a command that does not compile the target', () => {
    expect(() =>
      rewriteCompileCommand({
        target: 'a.o',
        source: 'a.c',
        command: 'ld -r -o a.o b.o',
        output: '/w/a.o',
        depFile: '/w/.a.o.d',
        flags: [],
      }),
    ).toThrow(/not a compile/);
  });
  it('puts a launcher (distcc) before the recorded compiler only', () => {
    const out = rewriteCompileCommand({
      target: 'fs/proc/cmdline.o',
      source: 'fs/proc/cmdline.c',
      command: `  ${command}`,
      output: '/w/fs/proc/cmdline.o',
      depFile: '/w/fs/proc/.cmdline.o.d',
      flags: [],
      launcher: ['distcc'],
    });
    expect(out).toMatch(/^ {2}distcc gcc -Wp,-MMD,\/w\/fs\/proc\/\.cmdline\.o\.d -nostdinc /);
    expect(out).toContain('; ./tools/objtool/objtool --orc   /w/fs/proc/cmdline.o');
  });
  it.each([
    ['ld -r -o a.o b.o -c', /starts with "ld", not a compiler, so distcc cannot run it/],
    ['$CC -c -o a.o a.c', /starts with "\$CC", not a compiler/],
  ])('refuses a launcher for %j', (recorded, message) => {
    expect(() =>
      rewriteCompileCommand({
        target: 'a.o',
        source: 'a.c',
        command: recorded,
        output: '/w/a.o',
        depFile: '/w/.a.o.d',
        flags: [],
        launcher: ['distcc'],
      }),
    ).toThrow(message);
  });
});
