import { formatError } from './byte-source.js';
import type { ElfSection } from './section.js';
import type { ElfGroup, ElfSymbol } from './types.js';

export interface GroupInput {
  file: string | undefined;
  section: ElfSection;
  /** sh_offset and sh_info as read, for decoding and error messages. */
  fileOffset: number;
  signatureIndex: number;
  symbols: readonly ElfSymbol[];
  sectionsByIndex: readonly (ElfSection | undefined)[];
  /** Sections already claimed by a group, to reject a section in two groups. */
  claimed: Map<ElfSection, ElfSection>;
}

/** Decodes a SHT_GROUP section: a flags word, then section indices of the members. */
export function readGroup(input: GroupInput): ElfGroup {
  const { file, section, fileOffset, signatureIndex, symbols, sectionsByIndex, claimed } = input;
  const data = section.data;
  if (data.length < 4) throw formatError(file, `group section ${section.name} has no flags word`, fileOffset);
  if (signatureIndex > symbols.length) {
    throw formatError(
      file,
      `group section ${section.name} has signature symbol index ${signatureIndex} out of range (${symbols.length + 1} symbols)`,
      fileOffset,
    );
  }
  const members: ElfSection[] = [];
  for (let p = 4; p < data.length; p += 4) {
    const index = data.readUInt32LE(p);
    const member = sectionsByIndex[index];
    if (!member || member === section) {
      throw formatError(
        file,
        `group section ${section.name} has a bad member section index ${index}`,
        fileOffset + p,
      );
    }
    const other = claimed.get(member);
    if (other) {
      throw formatError(
        file,
        `section ${member.name} is a member of more than one group (${other.name}, ${section.name})`,
        fileOffset + p,
      );
    }
    claimed.set(member, section);
    members.push(member);
  }
  return {
    flags: data.readUInt32LE(0),
    signature: signatureIndex === 0 ? undefined : symbols[signatureIndex - 1],
    members,
  };
}
