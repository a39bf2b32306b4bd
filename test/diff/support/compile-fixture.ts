import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

export const FIXTURE_DIR = new URL('../../fixtures/diff/', import.meta.url).pathname;

/** The kernel's code generation flags that matter to create-diff-object. */
export const KERNEL_LIKE_FLAGS = [
  '-O2',
  '-std=gnu11',
  '-nostdinc',
  '-mfentry',
  '-pg',
  '-mrecord-mcount',
  '-ffunction-sections',
  '-fdata-sections',
  '-fno-pic',
  '-fno-PIE',
  '-mcmodel=kernel',
  '-mno-red-zone',
  '-fno-common',
  '-fno-stack-protector',
  '-fno-asynchronous-unwind-tables',
  '-fcf-protection=none',
  '-fno-jump-tables',
  '-Wno-unused-variable',
  '-Wno-unused-function',
];

/** Flags gcc knows but clang does not (clang warns or fails on them). */
const GCC_ONLY = new Set(['-mrecord-mcount']);

function compilerFlags(spec: FixtureSpec): string[] {
  const common =
    spec.compiler === 'clang' ? KERNEL_LIKE_FLAGS.filter((f) => !GCC_ONLY.has(f)) : KERNEL_LIKE_FLAGS;
  return [...common, ...spec.flags];
}

/** What a fixture's header comments declare. */
export interface FixtureSpec {
  name: string;
  path: string;
  expect:
    | { outcome: 'changed'; changed: string[]; added: string[]; untraced: string[] }
    | { outcome: 'no-change' }
    | { outcome: 'refused'; kind: string };
  parent: string;
  sizes: Record<string, number>;
  /** Extra compiler flags (`// flags:`), after the kernel-like ones: e.g. 6.2+ function padding. */
  flags: string[];
  /** `// compiler: clang` for clang-built objects (LLVM=1 kernels); gcc otherwise. */
  compiler: 'gcc' | 'clang';
  /** `// gcc-only: why`: the fixture tests something only gcc emits (clones, split pieces). */
  gccOnly: boolean;
}

const list = (text: string | undefined) => (text ? text.split(',').filter((s) => s !== '') : []);

export async function readFixtureSpec(name: string): Promise<FixtureSpec> {
  const path = join(FIXTURE_DIR, `${name}.c`);
  const text = await readFile(path, 'utf8');
  const header = (key: string) => new RegExp(`^// ${key}: (.*)$`, 'm').exec(text)?.[1]?.trim();
  const expectText = header('expect') ?? '';
  let expect: FixtureSpec['expect'];
  if (expectText === 'no-change') expect = { outcome: 'no-change' };
  else if (expectText.startsWith('refused=')) expect = { outcome: 'refused', kind: expectText.slice(8) };
  else {
    const changed = /changed=(\S*)/.exec(expectText)?.[1];
    const added = /new=(\S*)/.exec(expectText)?.[1];
    const untraced = /untraced=(\S*)/.exec(expectText)?.[1];
    expect = { outcome: 'changed', changed: list(changed), added: list(added), untraced: list(untraced) };
  }
  const sizes: Record<string, number> = {};
  for (const assignment of (header('sizes') ?? '').split(/\s+/).filter(Boolean)) {
    const [key = '', value = ''] = assignment.split('=');
    sizes[key] = Number(value);
  }
  const flags = (header('flags') ?? '').split(/\s+/).filter(Boolean);
  const compiler = header('compiler') === 'clang' ? 'clang' : 'gcc';
  const gccOnly = header('gcc-only') !== undefined;
  return { name, path, expect, parent: header('parent') ?? 'vmlinux', sizes, flags, compiler, gccOnly };
}

/** Compiles a fixture as the original (`orig.o`) and with -DPATCHED (`patched.o`) into `dir`. */
export async function compileFixturePair(
  spec: FixtureSpec,
  dir: string,
): Promise<{ orig: string; patched: string }> {
  const orig = join(dir, `${spec.name}.${spec.compiler}.orig.o`);
  const patched = join(dir, `${spec.name}.${spec.compiler}.patched.o`);
  const base = [spec.compiler, ...compilerFlags(spec), '-I', FIXTURE_DIR, '-c', spec.path];
  await Promise.all([
    execa(base[0]!, [...base.slice(1), '-o', orig]),
    execa(base[0]!, [...base.slice(1), '-DPATCHED', '-o', patched]),
  ]);
  return { orig, patched };
}
