import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ElfFile } from '../../src/elf/index.js';
import {
  addSymbol,
  findSection,
  parseElf,
  SHT_NOBITS,
  STB_LOCAL,
  serializeElf,
  writeElfFile,
} from '../../src/elf/index.js';
import { ElfFormatError } from '../../src/errors.js';
import type { TestObjects } from './support/build-objects.js';
import { buildTestObjects, readelf, removeTempDir } from './support/build-objects.js';
import { relocationFacts } from './support/readelf-tables.js';

let objects: TestObjects;
beforeAll(async () => {
  objects = await buildTestObjects('layout');
});
afterAll(() => removeTempDir(objects?.dir));

async function load(path: string): Promise<{ elf: ElfFile; bytes: Buffer }> {
  const bytes = await readFile(path);
  return { elf: parseElf(bytes, { file: path }), bytes };
}

/** Section offsets by name as written in `bytes`. */
function offsets(bytes: Buffer): Map<string, number> {
  const elf = parseElf(bytes);
  return new Map(elf.sections.map((s) => [s.name, s.origin!.offset]));
}

/** readelf output without anything that depends on file offsets. */
function withoutOffsets(text: string): string {
  return text
    .replace(/at offset 0x[0-9a-f]+/g, 'at offset X')
    .replace(/^(\s+\[\s*\d+\].*?\s[0-9a-f]{16}) [0-9a-f]{6} /gm, '$1 XXXXXX ')
    .replace(/Start of section headers:\s+\d+/, 'Start of section headers: X');
}

async function writeTo(name: string, bytes: Buffer): Promise<string> {
  const path = join(objects.dir, name);
  await writeFile(path, bytes);
  return path;
}

describe('fresh layout', () => {
  it.each([
    ['kernel-like object', (o: TestObjects) => o.kernelObject],
    ['ld -r combined object', (o: TestObjects) => o.combinedObject],
  ])(
    '%s: readelf shows the same apart from offsets, sections are aligned and ld accepts it',
    async (_, pick) => {
      const { elf, bytes } = await load(pick(objects));
      const output = serializeElf(elf, { layout: 'fresh' });
      const path = await writeTo('fresh.o', output);
      expect(withoutOffsets(await readelf(path))).toBe(withoutOffsets(await readelf(pick(objects))));
      expect(output.equals(bytes)).toBe(false);
      for (const section of parseElf(output).sections) {
        if (section.type !== SHT_NOBITS)
          expect(section.origin!.offset % Math.max(1, section.addralign)).toBe(0);
      }
      await execa('ld', ['-r', '-o', `${path}.linked.o`, path]);
    },
  );
});

describe('preserve layout', () => {
  it('moves only a section that grew, to the end, and keeps every other offset', async () => {
    const { elf, bytes } = await load(objects.kernelObject);
    const text = findSection(elf, '.text.dispatch')!;
    text.data = Buffer.concat([text.data, Buffer.alloc(16, 0x90)]);
    const output = serializeElf(elf);
    const before = offsets(bytes);
    const after = offsets(output);
    expect(after.get('.text.dispatch')).toBeGreaterThanOrEqual(bytes.length);
    for (const [name, offset] of before) if (name !== '.text.dispatch') expect(after.get(name)).toBe(offset);
    expect(
      parseElf(output)
        .sections.find((s) => s.name === '.text.dispatch')
        ?.data.subarray(-16),
    ).toEqual(Buffer.alloc(16, 0x90));
    const path = await writeTo('grown.o', output);
    await execa('ld', ['-r', '-o', `${path}.linked.o`, path]);
  });

  it('keeps a shrunk section in place and zeroes the rest of its old bytes', async () => {
    const { elf, bytes } = await load(objects.kernelObject);
    const comment = findSection(elf, '.comment')!;
    const offset = comment.origin!.offset;
    const oldSize = comment.size;
    comment.data = Buffer.from('short\0');
    const output = serializeElf(elf);
    expect(offsets(output).get('.comment')).toBe(offset);
    expect(output.subarray(offset, offset + 6).toString('latin1')).toBe('short\0');
    expect(output.subarray(offset + 6, offset + oldSize).every((b) => b === 0)).toBe(true);
    expect(output.length).toBe(bytes.length);
  });

  it('an executable with a grown symbol table still runs the same', async () => {
    const { elf } = await load(objects.executable);
    for (let i = 0; i < 50; i++) {
      addSymbol(elf, { name: `added_${i}`, value: BigInt(i), specialIndex: 0xfff1 });
    }
    // A local shifts every global's index, so the --emit-relocs sections must be re-encoded.
    addSymbol(elf, { name: 'added_local', bind: STB_LOCAL, specialIndex: 0xfff1 });
    const path = join(objects.dir, 'program-edited');
    await writeElfFile(path, elf); // a new file with program headers is made executable
    const original = await execa(objects.executable, ['a', 'b'], { reject: false });
    const edited = await execa(path, ['a', 'b'], { reject: false });
    expect(edited.exitCode).toBe(original.exitCode);
    expect(await readelf(path, ['-sW'])).toContain('added_49');
    const relocations = relocationFacts(await readelf(path, ['-rW']));
    expect(relocations).toEqual(relocationFacts(await readelf(objects.executable, ['-rW'])));
    expect(relocations.get('.rela.text')?.length).toBeGreaterThan(5);
  });

  it('refuses to move an allocated section of an executable or to lay it out afresh', async () => {
    const { elf } = await load(objects.executable);
    expect(() => serializeElf(elf, { layout: 'fresh' })).toThrow(ElfFormatError);
    const text = findSection(elf, '.text')!;
    text.data = Buffer.concat([text.data, Buffer.alloc(1)]);
    expect(() => serializeElf(elf)).toThrow(/allocated section \.text grew and cannot move/);
  });
});
