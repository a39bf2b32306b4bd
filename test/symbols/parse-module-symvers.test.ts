import { describe, expect, it } from 'vitest';
import { moduleNameOf, parseModuleSymvers } from '../../src/symbols/parse-module-symvers.js';

describe('parseModuleSymvers', () => {
  it('reads CRCs, owners, kinds and namespaces', () => {
    const text =
      '0x5a4d5b9e\tseq_puts\tvmlinux\tEXPORT_SYMBOL\t\n' +
      '0x00000001\tnfsd_foo\tfs/nfsd/nfsd\tEXPORT_SYMBOL_GPL\tNFSD\n';
    const exports = parseModuleSymvers(text);
    expect(exports.get('seq_puts')).toEqual({
      name: 'seq_puts',
      crc: 0x5a4d5b9e,
      module: 'vmlinux',
      kind: 'EXPORT_SYMBOL',
      namespace: '',
    });
    expect(exports.get('nfsd_foo')?.namespace).toBe('NFSD');
    expect(exports.has('saved_command_line')).toBe(false);
  });

  it('rejects a line that is not Module.symvers, naming file and line', () => {
    expect(() => parseModuleSymvers('0x1\ta\tvmlinux\tEXPORT_SYMBOL\t\nnonsense\n', 'X.symvers')).toThrow(
      /^X\.symvers:2: /,
    );
  });

  it.each([
    ['vmlinux', 'vmlinux'],
    ['fs/nfsd/nfsd', 'nfsd'],
    ['drivers/net/foo-bar', 'foo_bar'],
  ])('module name of %s is %s', (path, name) => {
    expect(moduleNameOf(path)).toBe(name);
  });
});
