import { describe, expect, it } from 'vitest';
import { isBatchSelection, parseShard } from '../../src/cli/batch-options.js';
import { parseKpatchBuildArgs } from '../../src/cli/kpatch-build-options.js';
import { UsageError } from '../../src/errors.js';
import { allReleasesFlavour } from '../../src/pipeline/batch-releases.js';

describe('the batch command shape', () => {
  it.each([
    [['-a', '6.1.0-57-amd64', 'x.patch'], 'build'],
    [['-a', '6.1.0-57-amd64', '-a', '6.1.0-56-amd64', 'x.patch'], 'batch'],
    [['-a', 'all', 'x.patch'], 'batch'],
    [['-a', 'all-rt-amd64', 'x.patch'], 'batch'],
    [['-a', 'latest', '--shard', '1/1', 'x.patch'], 'batch'],
    [['-a', 'allow', 'x.patch'], 'build'],
  ])('%j is a %s', (args, kind) => {
    expect(parseKpatchBuildArgs(args)).toMatchObject({ kind });
  });

  it('keeps the shared build without a release and the -a values as given', () => {
    const command = parseKpatchBuildArgs(
      [
        '--distro',
        'debian',
        '--suite',
        'bookworm',
        '-a',
        'all',
        '-a',
        '6.1.0-57-amd64',
        '-o',
        'out',
        '--verify',
        'x.patch',
      ],
      '/w',
    );
    expect(command).toMatchObject({
      kind: 'batch',
      releases: ['all', '6.1.0-57-amd64'],
      build: {
        kind: 'build',
        target: { kind: 'distro', distro: 'debian' },
        job: { outputDir: '/w/out' },
        verify: true,
        debianArchive: { suite: 'bookworm' },
      },
    });
    expect(command).not.toHaveProperty('build.target.release');
  });

  it('reads --shard', () => {
    expect(parseKpatchBuildArgs(['-a', 'all', '--shard', '2/3', 'x.patch'])).toMatchObject({
      kind: 'batch',
      shard: { index: 2, count: 3 },
    });
  });

  it.each([
    [['-a', 'all', '-s', 'linux', 'x.patch'], /are for distro kernels, not -s or -r/],
    [['-a', 'a', '-a', 'b', '-r', 'k.src.rpm', 'x.patch'], /are for distro kernels, not -s or -r/],
    [['--shard', '1/2', 'x.patch'], /no -a names one/],
    [['-a', 'all', '--shard', '0/2', 'x.patch'], /I must be between 1 and 2 \(shards are numbered from 1\)/],
    [['-a', 'all', '--shard', '3/2', 'x.patch'], /I must be between 1 and 2/],
    [['-a', 'all', '--shard', '1/0', 'x.patch'], /N must be at least 1/],
    [['-a', 'all', '--shard', 'two', 'x.patch'], /--shard "two" is not of the form I\/N/],
    [['-a', 'all', '--shard', '1/2/3', 'x.patch'], /is not of the form I\/N/],
    [['--clean-cache', '-a', 'all'], /--clean-cache takes one -a RELEASE/],
    [['--clean-cache', '-a', 'a', '-a', 'b'], /--clean-cache takes one -a RELEASE/],
  ])('refuses %j with a UsageError and a hint', (args, message) => {
    expect(() => parseKpatchBuildArgs(args)).toThrow(message);
    try {
      parseKpatchBuildArgs(args);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).hint).toBeTruthy();
    }
  });
});

describe('parseShard', () => {
  it.each([
    ['1/1', { index: 1, count: 1 }],
    ['3/7', { index: 3, count: 7 }],
    [' 2/2 ', { index: 2, count: 2 }],
  ])('%j is %j', (text, shard) => {
    expect(parseShard(text)).toEqual(shard);
  });

  it('says how to derive the shard on a Kubernetes Indexed Job', () => {
    expect(() => parseShard('-1/3')).toThrow(UsageError);
    try {
      parseShard('0/3');
    } catch (error) {
      expect((error as UsageError).hint).toMatch(/JOB_COMPLETION_INDEX \+ 1/);
    }
  });
});

describe('allReleasesFlavour and isBatchSelection', () => {
  it.each([
    ['all', undefined],
    ['all-cloud-amd64', 'cloud-amd64'],
    ['all-', null],
    ['6.1.0-57-amd64', null],
    ['latest', null],
  ])('%j has flavour %j', (release, flavour) => {
    expect(allReleasesFlavour(release)).toBe(flavour);
  });

  it.each([
    [[], undefined, false],
    [['latest'], undefined, false],
    [['all'], undefined, true],
    [['a', 'b'], undefined, true],
    [['a'], '1/1', true],
  ] as const)('%j with --shard %j: batch %j', (releases, shard, batch) => {
    expect(isBatchSelection(releases, shard)).toBe(batch);
  });
});
