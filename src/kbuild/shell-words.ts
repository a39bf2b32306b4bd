/**
 * A small POSIX-shell lexer for kbuild's recorded commands. It splits a command line into words and
 * operators while keeping every token's raw text, so a caller can replace a few words (the output path,
 * the dependency file) and re-emit the rest byte for byte — quoting such as -DKBUILD_MODNAME='"cmdline"'
 * survives untouched. Words containing expansions ($VAR, $(...), backquotes) are marked `dynamic`:
 * their value is not known until the shell runs, so they are never candidates for replacement.
 */

export type ShellToken =
  | { kind: 'word'; raw: string; value: string; dynamic: boolean }
  | { kind: 'operator'; raw: string }
  | { kind: 'space'; raw: string };

const OPERATOR_CHARS = new Set([';', '&', '|', '(', ')', '<', '>', '\n']);
const SPACE_CHARS = new Set([' ', '\t']);

/** Index just past the `)` closing a `$(` that starts at `open` (the `(`), honouring quotes and nesting. */
function skipCommandSubstitution(text: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === "'") i = text.indexOf("'", i + 1) + 1 || text.length;
    else if (c === '"') i = skipDoubleQuoted(text, i + 1).end;
    else {
      if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return i + 1;
      i++;
    }
  }
  return text.length;
}

/** Reads a double-quoted string from `start` (just after the opening quote). */
function skipDoubleQuoted(text: string, start: number): { end: number; value: string; dynamic: boolean } {
  let value = '';
  let dynamic = false;
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') return { end: i + 1, value, dynamic };
    if (c === '\\') {
      const next = text[i + 1] ?? '';
      // Inside double quotes a backslash only escapes these characters.
      if ('$`"\\\n'.includes(next)) {
        if (next !== '\n') value += next;
      } else value += `\\${next}`;
      i += 2;
    } else if (c === '$' && text[i + 1] === '(') {
      const end = skipCommandSubstitution(text, i + 1);
      value += text.slice(i, end);
      dynamic = true;
      i = end;
    } else {
      if (c === '$' || c === '`') dynamic = true;
      value += c;
      i++;
    }
  }
  return { end: text.length, value, dynamic };
}

/** Splits a shell command into tokens; concatenating every token's `raw` gives back `text` exactly. */
export function splitShellWords(text: string): ShellToken[] {
  const tokens: ShellToken[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (SPACE_CHARS.has(c)) {
      let j = i;
      while (j < text.length && SPACE_CHARS.has(text[j]!)) j++;
      tokens.push({ kind: 'space', raw: text.slice(i, j) });
      i = j;
      continue;
    }
    if (OPERATOR_CHARS.has(c)) {
      const two = text.slice(i, i + 2);
      const raw = ['&&', '||', '>>', ';;'].includes(two) ? two : c;
      tokens.push({ kind: 'operator', raw });
      i += raw.length;
      continue;
    }
    // A word: runs until unquoted space or operator.
    let value = '';
    let dynamic = false;
    const start = i;
    while (i < text.length) {
      const d = text[i]!;
      if (SPACE_CHARS.has(d) || OPERATOR_CHARS.has(d)) break;
      if (d === "'") {
        const end = text.indexOf("'", i + 1);
        const stop = end < 0 ? text.length : end;
        value += text.slice(i + 1, stop);
        i = stop + 1;
      } else if (d === '"') {
        const quoted = skipDoubleQuoted(text, i + 1);
        value += quoted.value;
        dynamic ||= quoted.dynamic;
        i = quoted.end;
      } else if (d === '\\') {
        const next = text[i + 1] ?? '';
        if (next !== '\n') value += next;
        i += 2;
      } else if (d === '$' && text[i + 1] === '(') {
        const end = skipCommandSubstitution(text, i + 1);
        value += text.slice(i, end);
        dynamic = true;
        i = end;
      } else {
        if (d === '$' || d === '`') dynamic = true;
        value += d;
        i++;
      }
    }
    tokens.push({ kind: 'word', raw: text.slice(start, Math.min(i, text.length)), value, dynamic });
  }
  return tokens;
}

/** Quotes `value` for sh, leaving plain words (paths, flags) as they are. */
export function quoteShellWord(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The plain word values of a command (no operators), e.g. to look at a compiler's arguments. */
export function shellWordValues(text: string): string[] {
  return splitShellWords(text).flatMap((t) => (t.kind === 'word' ? [t.value] : []));
}
