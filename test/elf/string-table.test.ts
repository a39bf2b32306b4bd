import { describe, expect, it } from 'vitest';
import { joinStrings, StringTableBuilder, splitStrings, stringAt } from '../../src/elf/index.js';

const TABLE = Buffer.from('\0.text\0.rela.text\0foo\0', 'latin1');

describe('stringAt', () => {
  it.each([
    [0, ''],
    [1, '.text'],
    [7, '.rela.text'],
    [12, '.text'], // tail of .rela.text
    [18, 'foo'],
    [22, undefined], // past the end
    [1000, undefined],
  ])('offset %i → %s', (offset, expected) => {
    expect(stringAt(TABLE, offset)).toBe(expected);
  });

  it('reports an unterminated string as undefined', () => {
    expect(stringAt(Buffer.from('abc', 'latin1'), 0)).toBeUndefined();
  });

  it('keeps every byte value through latin1', () => {
    const bytes = Buffer.from([0x41, 0xe9, 0xff, 0x80, 0]);
    expect(Buffer.from(stringAt(bytes, 0)!, 'latin1')).toEqual(bytes.subarray(0, 4));
  });
});

describe('StringTableBuilder', () => {
  it.each([
    { name: 'reuses the previous offset when the name is unchanged', input: '.text', previous: 1, offset: 1 },
    { name: 'reuses a tail-shared previous offset', input: '.text', previous: 12, offset: 12 },
    { name: 'finds a new name already present in the table', input: 'foo', previous: -1, offset: 18 },
    { name: 'finds a new name present as a tail', input: 'text', previous: -1, offset: 2 },
    { name: 'ignores a stale previous offset and appends', input: 'bar', previous: 1, offset: 22 },
    { name: 'maps the empty name to 0', input: '', previous: -1, offset: 0 },
  ])('$name', ({ input, previous, offset }) => {
    const builder = new StringTableBuilder(TABLE);
    expect(builder.offsetOf(input, previous)).toBe(offset);
  });

  it('returns the original buffer itself when nothing was appended', () => {
    const builder = new StringTableBuilder(TABLE);
    builder.offsetOf('.text', 1);
    builder.offsetOf('foo');
    expect(builder.finish()).toBe(TABLE);
  });

  it('appends each new name once, after the original bytes', () => {
    const builder = new StringTableBuilder(TABLE);
    expect(builder.offsetOf('new_a')).toBe(22);
    expect(builder.offsetOf('new_b')).toBe(28);
    expect(builder.offsetOf('new_a')).toBe(22);
    expect(builder.finish().toString('latin1')).toBe(`${TABLE.toString('latin1')}new_a\0new_b\0`);
  });

  it('starts an empty table with the empty string', () => {
    const builder = new StringTableBuilder(Buffer.alloc(0));
    expect(builder.offsetOf('x')).toBe(1);
    expect(builder.finish()).toEqual(Buffer.from('\0x\0', 'latin1'));
  });
});

describe('splitStrings and joinStrings', () => {
  it('round-trip .modinfo-like contents', () => {
    const strings = ['license=GPL', 'description=test', 'vermagic=6.1.0'];
    const data = joinStrings(strings);
    expect(data.toString('latin1')).toBe('license=GPL\0description=test\0vermagic=6.1.0\0');
    expect(splitStrings(data)).toEqual(strings);
  });

  it('keeps a trailing unterminated piece', () => {
    expect(splitStrings(Buffer.from('a\0b', 'latin1'))).toEqual(['a', 'b']);
  });
});
