import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildLivepatch,
  buildTargetModule,
  KALLSYMS,
  makeTempDir,
  REPO,
  removeTempDir,
  SYMVERS,
  writeText,
} from './support/build.js';
import { symbolTable } from './support/readelf.js';

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('cli');
});

afterAll(() => removeTempDir(dir));

async function klpConvert(args: string[]) {
  const result = await execa('node', [join(REPO, 'bin/klp-convert.js'), ...args], {
    reject: false,
    env: { CACHEDIR: join(dir, 'cache') },
  });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

describe('bin/klp-convert', () => {
  it('prints its help', async () => {
    const result = await klpConvert(['--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Usage: klp-convert \(--vmlinux FILE \| --system-map FILE\)/);
  });

  it.each([
    [['a.ko', 'b.ko'], /give exactly one of --vmlinux and --system-map/],
    [
      ['--vmlinux', 'v', '--system-map', 's', 'a.ko', 'b.ko'],
      /give exactly one of --vmlinux and --system-map/,
    ],
    [['--vmlinux', 'v', 'a.ko'], /expected IN\.ko and OUT\.ko, got 1 argument/],
    [['--bogus', 'a.ko', 'b.ko'], /Unknown option '--bogus'/],
  ])('exits 64 on %j', async (args, message) => {
    const result = await klpConvert(args);
    expect(result.exitCode).toBe(64);
    expect(result.stderr).toMatch(new RegExp(`klp-convert: ERROR: .*${message.source}`));
  });

  it('converts, reporting as text and as JSON', async () => {
    const input = await buildLivepatch(dir, 'cli');
    const target = await buildTargetModule(dir);
    const kallsyms = await writeText(dir, 'kallsyms', KALLSYMS);
    const symvers = await writeText(dir, 'Module.symvers', SYMVERS);
    const common = ['--system-map', kallsyms, '--module-symvers', symvers, '--target-module', target];
    const text = await klpConvert([...common, input, join(dir, 'out.ko')]);
    expect(text.stderr).toMatch(/warning: weak_ref: found in no symbol table/);
    expect(text.stdout).toMatch(
      /klp-convert: dup_static -> \.klp\.sym\.vmlinux\.dup_static,2 \(declared in \.klp\.module_relocs\.vmlinux\[0\]; 1 relocation\)/,
    );
    expect(text.stdout).toMatch(/wrote .*out\.ko: 4 symbols converted, 1 export kept/);
    expect(text.exitCode).toBe(0);
    const json = await klpConvert([...common, '--json', input, join(dir, 'out-json.ko')]);
    const parsed = JSON.parse(json.stdout) as {
      converted: Array<{ klpSymbol: string }>;
      symbols: { cached: boolean };
    };
    expect(parsed.converted.map((c) => c.klpSymbol)).toContain('.klp.sym.target_mod.mod_static,0');
    expect(parsed.symbols.cached).toBe(true);
    expect((await symbolTable(join(dir, 'out-json.ko'))).some((s) => s.ndx === 'OS [0xff20]')).toBe(true);
  });

  it('exits 1 with every problem and a hint when the module cannot be converted', async () => {
    const input = await buildLivepatch(dir, 'cli-bad', ['DUP_POS=-1']);
    const kallsyms = await writeText(dir, 'kallsyms-bad', KALLSYMS);
    const result = await klpConvert(['--system-map', kallsyms, '--no-cache', input, join(dir, 'bad.ko')]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/klp-convert: ERROR: .*cli-bad\.ko: cannot convert the module/);
    expect(result.stderr).toMatch(/KLP_SYMPOS\(dup_static, 2\)/);
    expect(result.stderr).toMatch(/klp-convert: hint: declare positions with KLP_MODULE_RELOC/);
  });
});
