import { describe, expect, it } from 'vitest';
import { kallsymsIndexEntries } from '../../src/symbols/kallsyms-entries.js';
import { ObjectSymbols, resolveSympos } from '../../src/symbols/resolve-sympos.js';
import { SymbolIndex } from '../../src/symbols/symbol-index.js';

const ENTRIES = [
  { name: 'zeta', address: 0x10n, type: 'T' },
  { name: 'dup', address: 0xffffffff81000000n, type: 't', file: 'a.c' },
  { name: 'alpha', address: 0x30n, type: 'd' },
  { name: 'dup', address: 0xffffffff82000000n, type: 'd' },
  { name: 'dup', address: 0xffffffff83000000n, type: 'b', file: 'c.c' },
  { name: 'ünïcode', address: 0x40n, type: 'r', file: 'a.c' },
];

describe('SymbolIndex', () => {
  const index = SymbolIndex.build(ENTRIES);

  it.each([
    ['zeta', [{ name: 'zeta', address: 0x10n, type: 'T' }]],
    ['alpha', [{ name: 'alpha', address: 0x30n, type: 'd' }]],
    [
      'dup',
      [
        { name: 'dup', address: 0xffffffff81000000n, type: 't', file: 'a.c' },
        { name: 'dup', address: 0xffffffff82000000n, type: 'd' },
        { name: 'dup', address: 0xffffffff83000000n, type: 'b', file: 'c.c' },
      ],
    ],
    ['ünïcode', [{ name: 'ünïcode', address: 0x40n, type: 'r', file: 'a.c' }]],
    ['missing', []],
    ['', []],
  ])('looks up %j with every same-named symbol in the order given', (name, expected) => {
    expect(index.lookup(name)).toEqual(expected);
    expect(index.has(name)).toBe(expected.length > 0);
  });

  it('reads back what it wrote, byte for byte', () => {
    const again = SymbolIndex.fromBuffer(Buffer.from(index.bytes));
    expect(again.symbolCount).toBe(ENTRIES.length);
    expect(again.lookup('dup')).toEqual(index.lookup('dup'));
    expect(again.bytes).toEqual(index.bytes);
  });

  it('backs an ObjectSymbols table for resolveSympos', () => {
    const table = new ObjectSymbols('vmlinux', (name) => index.lookup(name));
    expect(resolveSympos(table, 'dup', 3)).toEqual({ ok: true, sympos: 3, count: 3 });
    expect(resolveSympos(table, 'zeta')).toEqual({ ok: true, sympos: 0, count: 1 });
  });

  it.each([
    ['a short buffer', Buffer.alloc(8)],
    ['bad magic', Buffer.concat([Buffer.from('NOTANIDX'), SymbolIndex.build(ENTRIES).bytes.subarray(8)])],
    [
      'another version',
      (() => {
        const b = Buffer.from(SymbolIndex.build(ENTRIES).bytes);
        b.writeUInt32LE(99, 8);
        return b;
      })(),
    ],
    ['a truncated file', SymbolIndex.build(ENTRIES).bytes.subarray(0, 100)],
  ])('rejects %s', (_what, bytes) => {
    expect(() => SymbolIndex.fromBuffer(bytes, 'x.klpsyms')).toThrow(/x\.klpsyms: not a usable symbol index/);
  });
});

describe('kallsymsIndexEntries', () => {
  it('keeps vmlinux lines in file order and skips loaded modules', () => {
    const text = [
      '0000000000000000 A fixed_percpu_data',
      'ffffffff81000000 T _stext',
      'ffffffff81000100 t dup',
      'ffffffffc0000000 t dup\t[some_mod]',
      'ffffffffc0000010 t mod_only [other_mod]',
      'ffffffff81000000 t dup',
      '',
    ].join('\n');
    expect(kallsymsIndexEntries(text).map((e) => [e.name, e.address, e.type])).toEqual([
      ['fixed_percpu_data', 0n, 'A'],
      ['_stext', 0xffffffff81000000n, 'T'],
      ['dup', 0xffffffff81000100n, 't'],
      ['dup', 0xffffffff81000000n, 't'],
    ]);
  });

  it('reads System.map with CRLF line ends', () => {
    expect(kallsymsIndexEntries('ffffffff81000000 T _text\r\nffffffff81000010 t x\r\n')).toHaveLength(2);
  });

  it.each([
    ['no type', 'ffffffff81000000 foo'],
    ['a bad address', 'fffffffg81000000 T foo'],
    ['junk after the name', 'ffffffff81000000 T foo bar'],
    ['a two-letter type', 'ffffffff81000000 TT foo'],
  ])('refuses a line with %s, naming file and line', (_what, line) => {
    expect(() => kallsymsIndexEntries(`ffffffff81000000 T ok\n${line}\n`, 'ks.txt')).toThrow(
      /ks\.txt:2: not a kallsyms\/System\.map line/,
    );
  });
});
