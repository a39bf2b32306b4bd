import { describe, expect, it } from 'vitest';
import type { ElfFile } from '../../src/elf/index.js';
import {
  addSection,
  addSymbol,
  createElf,
  findSection,
  SHF_ALLOC,
  SHT_PROGBITS,
  STB_LOCAL,
  STT_OBJECT,
} from '../../src/elf/index.js';
import { removeDepends, removeVersions } from '../../src/klp/index.js';
import { modinfoValue } from '../../src/module/modinfo.js';
import { MODVERSION_ENTRY_SIZE } from '../../src/module/modversions.js';

function modinfo(...strings: string[]): ElfFile {
  const elf = createElf({ file: 'm.ko' });
  addSection(elf, {
    name: '.modinfo',
    type: SHT_PROGBITS,
    flags: SHF_ALLOC,
    data: Buffer.from(strings.map((s) => `${s}\0`).join(''), 'latin1'),
  });
  return elf;
}

function versions(...names: string[]): Buffer {
  const data = Buffer.alloc(names.length * MODVERSION_ENTRY_SIZE);
  names.forEach((name, i) => {
    data.writeBigUInt64LE(BigInt(i + 1), i * MODVERSION_ENTRY_SIZE);
    data.write(name, i * MODVERSION_ENTRY_SIZE + 8, 'latin1');
  });
  return data;
}

describe('removeDepends', () => {
  it.each([
    ['depends=nfsd,target-mod,b', ['target_mod'], 'depends=nfsd,b', ['target-mod']],
    ['depends=target_mod', ['target_mod'], 'depends=', ['target_mod']],
    ['depends=a,b', ['target_mod'], 'depends=a,b', []],
    ['depends=', ['target_mod'], 'depends=', []],
  ])('%s without %j is %s', (entry, modules, expected, removed) => {
    const elf = modinfo('license=GPL', entry, 'livepatch=Y');
    const before = findSection(elf, '.modinfo')!.data.length;
    expect(removeDepends(elf, new Set(modules))).toEqual(removed);
    expect(modinfoValue(elf, 'depends')).toBe(expected.slice('depends='.length));
    // In place: the size and every other string's offset stay.
    const data = findSection(elf, '.modinfo')!.data;
    expect(data.length).toBe(before);
    expect(data.indexOf('livepatch=Y')).toBe(Buffer.from(`license=GPL\0${entry}\0`).length);
  });
});

describe('removeVersions', () => {
  it('drops __versions entries of converted names and shrinks ____versions with them', () => {
    const elf = createElf({ file: 'm.ko' });
    const section = addSection(elf, {
      name: '__versions',
      type: SHT_PROGBITS,
      flags: SHF_ALLOC,
      addralign: 32,
      data: versions('module_layout', 'mod_export', 'printk', 'other_export'),
    });
    const symbol = addSymbol(elf, {
      name: '____versions',
      bind: STB_LOCAL,
      type: STT_OBJECT,
      section,
      size: 256n,
    });
    expect(removeVersions(elf, new Set(['mod_export', 'other_export', 'absent']))).toEqual([
      'mod_export',
      'other_export',
    ]);
    const entries = [0, 1].map((i) => {
      const at = i * MODVERSION_ENTRY_SIZE;
      return [
        section.data.readBigUInt64LE(at),
        section.data.toString('latin1', at + 8, section.data.indexOf(0, at + 8)),
      ];
    });
    // The kept entries, whole and in order, with their CRCs.
    expect(entries).toEqual([
      [1n, 'module_layout'],
      [3n, 'printk'],
    ]);
    expect(section.data.length).toBe(2 * MODVERSION_ENTRY_SIZE);
    expect(symbol.size).toBe(128n);
  });

  it('drops entries from the extended tables of newer kernels too', () => {
    const elf = createElf({ file: 'm.ko' });
    const crcs = Buffer.alloc(12);
    for (const [i, crc] of [0xa, 0xb, 0xc].entries()) crcs.writeUInt32LE(crc, i * 4);
    const crcSection = addSection(elf, {
      name: '__version_ext_crcs',
      type: SHT_PROGBITS,
      flags: SHF_ALLOC,
      data: crcs,
    });
    const names = addSection(elf, {
      name: '__version_ext_names',
      type: SHT_PROGBITS,
      flags: SHF_ALLOC,
      data: Buffer.from('a_very_long_name\0mod_export\0c\0'),
    });
    expect(removeVersions(elf, new Set(['mod_export']))).toEqual(['mod_export']);
    expect(names.data.toString()).toBe('a_very_long_name\0c\0');
    expect([crcSection.data.readUInt32LE(0), crcSection.data.readUInt32LE(4)]).toEqual([0xa, 0xc]);
    expect(crcSection.data.length).toBe(8);
  });

  it('leaves a module without version tables alone', () => {
    expect(removeVersions(createElf(), new Set(['x']))).toEqual([]);
  });
});
