/**
 * deb822 control data (.dsc files, Packages and Sources indexes, Release files): paragraphs of
 * "Field: value" lines, continuation lines starting with a space or tab, paragraphs separated by blank lines.
 * A clearsigned file's PGP armor is removed (the signature itself is not checked here).
 */
import { SourceError } from '../errors.js';

/** One paragraph; field names are matched case-insensitively through `field`. */
export class Paragraph {
  constructor(readonly fields: ReadonlyMap<string, string>) {}

  field(name: string): string | undefined {
    return this.fields.get(name.toLowerCase());
  }

  required(name: string, where: string): string {
    const value = this.field(name);
    if (value === undefined || value === '') {
      throw new SourceError(`${where}: no ${name} field`, {
        hint: 'the file is corrupt or not what it should be',
      });
    }
    return value;
  }

  /** The lines of a multi-line field (e.g. Checksums-Sha256), without the empty first line. */
  lines(name: string): string[] {
    return (this.field(name) ?? '')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
  }
}

/** The signed text of a clearsigned message, or the text itself when it is not clearsigned. */
export function stripPgpArmor(text: string): string {
  if (!text.startsWith('-----BEGIN PGP SIGNED MESSAGE-----')) return text;
  const lines = text.split('\n');
  let i = 1;
  while (i < lines.length && lines[i]?.trim() !== '') i++; // armor headers (Hash: ...)
  const body: string[] = [];
  for (i++; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('-----BEGIN PGP SIGNATURE-----')) break;
    body.push(line.startsWith('- ') ? line.slice(2) : line);
  }
  return body.join('\n');
}

/** Parses every paragraph of a deb822 text. */
export function parseDeb822(text: string, where: string): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  let fields = new Map<string, string>();
  let last: string | undefined;
  const close = () => {
    if (fields.size > 0) paragraphs.push(new Paragraph(fields));
    fields = new Map();
    last = undefined;
  };
  for (const line of stripPgpArmor(text).split('\n')) {
    if (line.trim() === '') {
      close();
      continue;
    }
    if (line.startsWith('#')) continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (last === undefined) {
        throw new SourceError(`${where}: continuation line before any field`, {
          hint: 'the file is corrupt',
        });
      }
      fields.set(last, `${fields.get(last)}\n${line.slice(1)}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0)
      throw new SourceError(`${where}: malformed line "${line}"`, { hint: 'the file is corrupt' });
    last = line.slice(0, colon).trim().toLowerCase();
    fields.set(last, line.slice(colon + 1).trim());
  }
  close();
  return paragraphs;
}

export interface FileChecksum {
  name: string;
  size: number;
  sha256: string;
}

/** "Checksums-Sha256" / "SHA256" lines: "<sha256> <size> <name>". File names may not contain a slash unless `paths`. */
export function sha256Lines(
  paragraph: Paragraph,
  field: string,
  where: string,
  paths = false,
): FileChecksum[] {
  return paragraph.lines(field).map((line) => {
    const match = /^([0-9a-fA-F]{64})\s+(\d+)\s+(\S+)$/.exec(line);
    const name = match?.[3] ?? '';
    const unsafe = paths ? name.startsWith('/') || name.split('/').includes('..') : name.includes('/');
    if (!match || unsafe || name === '.' || name === '..') {
      throw new SourceError(`${where}: bad ${field} line "${line}"`, {
        hint: 'the file is corrupt or crafted',
      });
    }
    return { name, size: Number(match[2]), sha256: (match[1] ?? '').toLowerCase() };
  });
}
