import { describe, expect, it } from 'vitest';
import {
  klpRelaObject,
  klpRelaSectionName,
  klpSymbolName,
  objectNameProblem,
  parseKlpSymbolName,
  symbolNameProblem,
} from '../../src/klp/index.js';

describe('livepatch names', () => {
  it('builds section and symbol names as the kernel parses them', () => {
    expect(klpRelaSectionName('vmlinux', '.text.foo')).toBe('.klp.rela.vmlinux..text.foo');
    expect(klpSymbolName('nfsd', 'nfsd_open', 2)).toBe('.klp.sym.nfsd.nfsd_open,2');
    expect(parseKlpSymbolName('.klp.sym.nfsd.nfsd_open.cold,2')).toEqual({
      object: 'nfsd',
      name: 'nfsd_open.cold',
      sympos: 2,
    });
    expect(klpRelaObject('.klp.rela.vmlinux..text.foo')).toBe('vmlinux');
  });

  it.each([
    ['vmlinux', undefined],
    ['snd_hda_intel', undefined],
    ['x'.repeat(55), undefined],
    ['x'.repeat(56), /has 56 characters; the kernel reads at most 55/],
    ['a.b', /contains '\.'/],
    ['', /empty/],
  ])('object name %j: %s', (name, problem) => {
    const found = objectNameProblem(name);
    if (problem) expect(found).toMatch(problem);
    else expect(found).toBeUndefined();
  });

  it.each([
    ['saved_command_line', undefined],
    ['foo.constprop.0', undefined],
    ['y'.repeat(511), undefined],
    ['y'.repeat(512), /has 512 characters; the kernel reads at most 511/],
    ['a,b', /contains ','/],
  ])('symbol name %j: %s', (name, problem) => {
    const found = symbolNameProblem(name);
    if (problem) expect(found).toMatch(problem);
    else expect(found).toBeUndefined();
  });

  it.each([
    ['.klp.sym.vmlinux.foo', 'no position'],
    ['.klp.sym.vmlinux.a,b,1', 'a comma in the name'],
    [`.klp.sym.${'x'.repeat(56)}.foo,0`, 'a long object name'],
    ['.klp.sym.vmlinux.foo,x', 'a position that is not a number'],
  ])('does not parse %s (%s)', (name) => {
    expect(parseKlpSymbolName(name)).toBeUndefined();
  });
});
