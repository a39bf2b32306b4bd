import { describe, expect, it } from 'vitest';
import { parseKpatchBuildArgs } from '../../src/cli/kpatch-build-options.js';
import { UsageError } from '../../src/errors.js';

describe('parseKpatchBuildArgs', () => {
  it.each([
    [['--check', 'true', 'x.patch'], /--check is used by --verify/],
    [['--cpu', 'max', 'x.patch'], /--cpu is the CPU model of the --verify VM/],
    [['--verify', '--cpu', '', 'x.patch'], /--cpu "" is not a qemu CPU model/],
    [['--verify', '--cpu=-enable-kvm', 'x.patch'], /--cpu "-enable-kvm" is not a qemu CPU model/],
    [['--verify', '--cpu', 'max -smp 4', 'x.patch'], /--cpu "max -smp 4" is not a qemu CPU model/],
    [['-j', '0', 'x.patch'], /-j\/--jobs takes a positive whole number/],
    [['--max-objects', '1.5', 'x.patch'], /--max-objects takes a positive whole number/],
    [[], /no patch given/],
    [
      ['-s', '.', '-r', 'kernel.src.rpm', 'x.patch'],
      /-r\/--sourcerpm and -s\/--sourcedir are two different sources/,
    ],
    [['--oot-module', 'm.ko', 'x.patch'], /--oot-module and --oot-module-src go together/],
    [['--sign-key', 'k.pem', 'x.patch'], /--sign-key and --sign-cert go together/],
    [['--sign-cert', 'c.pem', 'x.patch'], /--sign-key and --sign-cert go together/],
    [['-t', 'vmlinux', 'x.patch'], /-t\/--target names make targets for --full-build/],
    [['-n', '', 'x.patch'], /the module name is empty/],
    // -n is used as given or refused, never rewritten; a derived name is refused too rather than cut.
    [['-n', 'foo/bar', 'x.patch'], /-n\/--name "foo\/bar": a module name holds only/],
    [['-n', 'x'.repeat(56), 'x.patch'], /has 56 characters; the kernel allows at most 55/],
    [[`${'y'.repeat(50)}.patch`], /module name derived from y+\.patch .* has 60 characters/],
  ])('refuses %j with a UsageError', (args, message) => {
    expect(() => parseKpatchBuildArgs(args)).toThrow(UsageError);
    expect(() => parseKpatchBuildArgs(args)).toThrow(message);
  });

  it('leaves unknown options to parseArgs (runCli words them as usage errors)', () => {
    expect(() => parseKpatchBuildArgs(['--bogus', 'x.patch'])).toThrow(/Unknown option '--bogus'/);
  });

  it.each([
    [['-h', 'x.patch'], { kind: 'help' }],
    [['--version'], { kind: 'version' }],
  ])('%j is %j', (args, command) => {
    expect(parseKpatchBuildArgs(args)).toEqual(command);
  });

  it('reads -s DIR with its options into a tree target and a job', () => {
    const args = [
      '-s',
      'linux',
      '-c',
      'my.config',
      '-v',
      'vmlinux.dbg',
      '-n',
      'fix',
      '-o',
      'out',
      '-R',
      '-d',
    ];
    const command = parseKpatchBuildArgs(
      [...args, '--skip-cleanup', '-j', '3', '--max-objects', '9', 'a.patch', 'b.patch'],
      '/w',
    );
    expect(command).toEqual({
      kind: 'build',
      target: { kind: 'tree', sourceDir: 'linux', config: 'my.config', vmlinux: 'vmlinux.dbg' },
      job: {
        patches: ['a.patch', 'b.patch'],
        name: 'fix',
        outputDir: '/w/out',
        replace: false,
        skipCleanup: true,
        allowFuzz: false,
        skipCompilerCheck: false,
        keepWorkDir: true,
      },
      jobs: 3,
      distcc: false,
      maxObjects: 9,
      debug: true,
      json: false,
      verify: false,
      checks: [],
      debianArchive: { ignoreValidUntil: false },
      notes: [],
    });
  });

  it('reads a distro release, -r, --full-build -t, the out-of-tree module and --verify --check', () => {
    const command = parseKpatchBuildArgs(
      [
        '--distro',
        'fedora',
        '-a',
        '6.5.6-300.fc39.x86_64',
        '-r',
        'k.src.rpm',
        '--full-build',
        '-t',
        'vmlinux',
        '-t',
        'modules',
        '--oot-module',
        'm.ko',
        '--oot-module-src',
        'm',
        '--verify',
        '--check',
        'true',
        '--json',
        '--distcc',
        'dir/fix-1.patch',
      ],
      '/w',
    );
    expect(command).toMatchObject({
      kind: 'build',
      target: {
        kind: 'distro',
        distro: 'fedora',
        release: '6.5.6-300.fc39.x86_64',
        sourceRpm: 'k.src.rpm',
        fullBuild: true,
        buildTargets: ['vmlinux', 'modules'],
      },
      job: {
        name: 'livepatch-fix-1',
        outputDir: '/w',
        replace: true,
        ootModule: { ko: 'm.ko', sourceDir: 'm' },
      },
      json: true,
      distcc: true,
      verify: true,
      checks: ['true'],
      debianArchive: { ignoreValidUntil: false },
    });
    expect(command).not.toHaveProperty('jobs');
    expect(command).not.toHaveProperty('maxObjects');
  });

  it.each([['max'], ['Skylake-Client-v4'], ['EPYC-v4,-pcid,+ibrs'], ['qemu64,model-id=x']])(
    'reads --verify --cpu %s',
    (cpu) => {
      expect(parseKpatchBuildArgs(['--verify', '--cpu', cpu, 'x.patch'])).toMatchObject({
        verify: true,
        cpu,
      });
    },
  );

  it('leaves the CPU model to the VM default without --cpu', () => {
    expect(parseKpatchBuildArgs(['--verify', 'x.patch'])).not.toHaveProperty('cpu');
  });

  it('leaves the distro and release to the target resolver when not given', () => {
    expect(parseKpatchBuildArgs(['x.patch'])).toMatchObject({ target: { kind: 'distro' } });
    expect(parseKpatchBuildArgs(['x.patch'])).not.toHaveProperty('target.distro');
  });

  it('reads the Debian archive options (--suite, --ignore-valid-until)', () => {
    const command = parseKpatchBuildArgs(
      ['--distro', 'debian', '--suite', 'forky', '--ignore-valid-until', '-a', 'latest', 'x.patch'],
      '/w',
    );
    expect(command).toMatchObject({
      target: { kind: 'distro', distro: 'debian', release: 'latest' },
      debianArchive: { suite: 'forky', ignoreValidUntil: true },
    });
  });

  it('resolves --sign-key and --sign-cert into the job', () => {
    const command = parseKpatchBuildArgs(
      ['-s', 'linux', '--sign-key', 'k.pem', '--sign-cert', '/keys/c.pem', 'x.patch'],
      '/w',
    );
    expect(command).toMatchObject({ job: { sign: { key: '/w/k.pem', cert: '/keys/c.pem' } } });
  });

  it('puts --allow-fuzz on the job (off by default)', () => {
    expect(parseKpatchBuildArgs(['--allow-fuzz', 'x.patch'])).toMatchObject({ job: { allowFuzz: true } });
    expect(parseKpatchBuildArgs(['x.patch'])).toMatchObject({ job: { allowFuzz: false } });
  });

  it('notes a default name whose characters were replaced', () => {
    const command = parseKpatchBuildArgs(['fix.v2.patch']);
    expect(command).toMatchObject({ job: { name: 'livepatch-fix-v2' } });
    expect(command).toMatchObject({
      notes: [expect.stringMatching(/module name livepatch-fix-v2 \(from fix\.v2\.patch/)],
    });
  });

  it.each([
    [['--clean-cache'], { kind: 'clean-cache' }],
    [
      ['--clean-cache', '--distro', 'debian', '-a', '6.1.0-57-amd64'],
      { kind: 'clean-cache', distro: 'debian', release: '6.1.0-57-amd64' },
    ],
  ])('%j is %j (no patch needed)', (args, command) => {
    expect(parseKpatchBuildArgs(args)).toEqual(command);
  });
});
