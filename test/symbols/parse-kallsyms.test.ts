import { describe, expect, it } from 'vitest';
import { SourceError } from '../../src/errors.js';
import { parseKallsyms } from '../../src/symbols/parse-kallsyms.js';

describe('parseKallsyms', () => {
  it('reads kallsyms lines, with and without a module, keeping order and full 64-bit addresses', () => {
    const text = [
      'ffffffff81000000 T _stext',
      'ffffffff8132a5f0 t cmdline_proc_show',
      'ffffffffc0002000 t helper\t[some_mod]',
      '',
    ].join('\n');
    expect(parseKallsyms(text)).toEqual([
      { name: '_stext', address: 0xffffffff81000000n, type: 'T' },
      { name: 'cmdline_proc_show', address: 0xffffffff8132a5f0n, type: 't' },
      { name: 'helper', address: 0xffffffffc0002000n, type: 't', module: 'some_mod' },
    ]);
  });

  it.each(['ffffffff81000000 T', 'zz T name', 'ffffffff81000000  T name'])(
    'names the bad line %j',
    (line) => {
      expect(() => parseKallsyms(`ffffffff81000000 T ok\n${line}\n`, 'my.map')).toThrow(SourceError);
      expect(() => parseKallsyms(`ffffffff81000000 T ok\n${line}\n`, 'my.map')).toThrow(/^my\.map:2: /);
    },
  );
});
