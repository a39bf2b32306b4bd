/**
 * Splits a C header into its top-level items — macro definitions, function definitions and prototypes,
 * type and variable declarations — each with the names it defines, the identifiers it mentions, the
 * preprocessor conditionals around it and whether its code is emitted only when used ("on demand": a
 * macro, a declaration, a static or static inline definition). It is a scanner, not a parser: where it
 * cannot tell what an item defines (a macro invocation such as DECLARE_PER_CPU(...)), it says so
 * (`names` undefined) and callers must assume the worst. Comments are dropped, so a comment-only change
 * changes no item.
 */

export interface TopLevelItem {
  /** The item's text without comments, whitespace-normalised: equal texts are equal items. */
  text: string;
  /** `#if`/`#ifdef`/`#else`... lines enclosing it, outermost first. */
  context: string;
  /** What it defines; undefined when the scanner cannot tell (a macro invocation). */
  names: string[] | undefined;
  /** Every identifier in it. */
  mentions: Set<string>;
  /** Its code is emitted only where one of its names is used. */
  onDemand: boolean;
}

export interface TopLevel {
  items: TopLevelItem[];
  /**
   * Directives outside items other than #define and conditionals (#include, #undef, #pragma...), with
   * their context: a change to one can change anything after it.
   */
  directives: string[];
  /** Identifiers of top-level conditionals and other directives: they steer what every includer compiles. */
  directiveMentions: Set<string>;
}

const KEYWORDS = new Set(
  (
    'auto break case char const continue default do double else enum extern float for goto if inline int ' +
    'long register restrict return short signed sizeof static struct switch typedef union unsigned void ' +
    'volatile while _Bool bool _Static_assert static_assert typeof __typeof__ __inline __inline__ __volatile__ ' +
    'asm __asm__ __attribute__ __extension__ __restrict __signed__ __const'
  ).split(' '),
);

/** Annotations that look like calls in a declaration but are never what it defines. */
const ANNOTATIONS = new Set(
  (
    '__attribute__ __printf __scanf __aligned __section __acquires __releases __must_hold __alloc_size ' +
    '__malloc __assume_aligned __cleanup __counted_by __diagnose_as __nonstring __designated_init ' +
    '__no_sanitize_address __noreturn __weak __visible __cold __pure __always_inline noinline __init __exit'
  ).split(' '),
);

/** Marks making a static definition's code emitted even when nothing uses it. */
const EMITTED_ANYWAY =
  /\b__used\b|\b__section\b|\b__ADDRESSABLE\b|__attribute__ \( \( (used|section|constructor)\b/;

const TAGS = new Set(['struct', 'union', 'enum']);
/** Replaces comments with spaces (newlines kept); string and character literals are kept as they are. */
export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '/' && next === '/') {
      let end = text.indexOf('\n', i);
      if (end < 0) end = text.length;
      out += ' '.repeat(end - i);
      i = end;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

type Token = { kind: 'id' | 'punct' | 'literal'; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /("(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?)|([A-Za-z_]\w*)|(\d[\w.]*)|(\S)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[2] !== undefined) tokens.push({ kind: 'id', value: m[2] });
    else if (m[4] !== undefined) tokens.push({ kind: 'punct', value: m[4] });
    else tokens.push({ kind: 'literal', value: m[0] });
  }
  return tokens;
}

const isMacroInvocationName = (name: string) => /^[A-Z_][A-Z0-9_]*$/.test(name) && /[A-Z]/.test(name);

/**
 * The names a declaration or definition defines, read from its head (the tokens before its body or
 * initializer): identifiers followed by `(`, `;`, `,`, `[`, `=`, `:`, `{` or the end, and those in a
 * `(*name)` declarator. Undefined for a macro invocation.
 */
export function declaredNames(head: Token[]): string[] | undefined {
  const names = new Set<string>();
  let depth = 0;
  for (let i = 0; i < head.length; i++) {
    const token = head[i]!;
    if (token.kind === 'punct') {
      if (token.value === '(' || token.value === '[') depth++;
      else if (token.value === ')' || token.value === ']') depth--;
      continue;
    }
    const name = token.value;
    if (KEYWORDS.has(name) || ANNOTATIONS.has(name)) continue;
    const next = head[i + 1]?.value;
    const prev = head[i - 1]?.value;
    // `DEFINE_MUTEX(x);`, `static DECLARE_BITMAP(...)`: a macro invocation; `bool IS_ERR(...)` is not
    const onlyStorageBefore = head.slice(0, i).every((t) => t.value === 'static' || t.value === 'extern');
    if (depth === 0 && next === '(' && isMacroInvocationName(name) && onlyStorageBefore) return undefined;
    if (depth === 0 && (next === undefined || ['(', ';', ',', '[', '=', ':', '{'].includes(next)))
      names.add(name);
    else if (depth === 1 && prev === '*' && head[i - 2]?.value === '(' && next === ')') names.add(name);
  }
  return names.size > 0 ? [...names] : undefined;
}

type ItemShape = 'function' | 'initialized' | 'aggregate' | 'declaration';

/**
 * Whether the item's code is emitted only where it is used. Anything this cannot vouch for (a
 * non-static definition, a top-level asm, a `__used` static) is emitted by every includer.
 */
function isOnDemand(tokens: Token[], text: string, shape: ItemShape, hasDeclarators: boolean): boolean {
  if (tokens[0]?.value === 'asm' || tokens[0]?.value === '__asm__' || EMITTED_ANYWAY.test(text)) return false;
  const words = new Set(tokens.filter((t) => t.kind === 'id').map((t) => t.value));
  if (words.has('static') || words.has('typedef')) return true;
  if (shape === 'function' || shape === 'initialized') return false;
  if (words.has('extern')) return true;
  // `struct x;`: a forward declaration
  if (shape === 'declaration' && TAGS.has(tokens[0]?.value ?? '') && tokens.length <= 3) return true;
  // `struct x {...};` and prototypes declare; `int x;` and `struct x {...} y;` define y in every includer
  return shape === 'aggregate' ? !hasDeclarators : tokens.some((t) => t.value === '(');
}

/** One non-directive item from its tokens. */
function codeItem(tokens: Token[], context: string): TopLevelItem {
  let headEnd = tokens.length;
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const v = tokens[i]!.value;
    if (v === '(' || v === '[') depth++;
    else if (v === ')' || v === ']') depth--;
    else if (depth === 0 && (v === '{' || v === '=')) {
      headEnd = i;
      break;
    }
  }
  const open = tokens[headEnd]?.value;
  const isAggregate =
    open === '{' &&
    (TAGS.has(tokens[headEnd - 1]?.value ?? '') || TAGS.has(tokens[headEnd - 2]?.value ?? ''));
  const shape: ItemShape =
    open === '=' ? 'initialized' : open !== '{' ? 'declaration' : isAggregate ? 'aggregate' : 'function';
  const text = tokens.map((t) => t.value).join(' ');
  const head = tokens.slice(0, headEnd);
  const after = isAggregate ? declaratorsAfterBody(tokens, headEnd) : [];
  let names = declaredNames(isAggregate ? head.concat(after) : head);
  if (isAggregate && head.some((t) => t.value === 'enum'))
    names = [...(names ?? []), ...enumConstants(tokens)];
  if (names) names.push(...innerDefines(tokens));
  // `} __packed;`, `} ____cacheline_aligned;`: attributes, not variables
  const hasDeclarators = after.some((t) => t.kind === 'id');
  return {
    text,
    context,
    names,
    mentions: new Set(tokens.filter((t) => t.kind === 'id').map((t) => t.value)),
    onDemand: isOnDemand(tokens, text, shape, hasDeclarators),
  };
}

/**
 * The declarators after the brace body starting at `open` (`struct x {...} a, b;`), behind a `{` so
 * the tag reads as a name; attributes (`__packed`, `__aligned(8)`, `____cacheline_aligned`) left out.
 */
function declaratorsAfterBody(tokens: Token[], open: number): Token[] {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const v = tokens[i]!.value;
    if (v === '{') depth++;
    else if (v === '}' && --depth === 0) {
      const out: Token[] = [{ kind: 'punct', value: '{' }];
      let parens = 0;
      for (const t of tokens.slice(i + 1)) {
        if (t.value === '(') parens++;
        else if (t.value === ')') parens--;
        else if (parens === 0 && !(t.kind === 'id' && t.value.startsWith('__'))) out.push(t);
      }
      return out;
    }
  }
  return [];
}

/** Macros an item defines inside its body (`#define` lines within a struct). */
function innerDefines(tokens: Token[]): string[] {
  const names: string[] = [];
  for (let i = 0; i + 2 < tokens.length; i++) {
    if (tokens[i]!.value === '#' && tokens[i + 1]!.value === 'define') names.push(tokens[i + 2]!.value);
  }
  return names;
}

function enumConstants(tokens: Token[]): string[] {
  const names: string[] = [];
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = tokens[i - 1]!.value;
    if (t.kind === 'id' && (prev === '{' || prev === ',')) names.push(t.value);
  }
  return names;
}

const CONDITIONAL = /^#\s*(if|ifdef|ifndef|elif|else|endif)\b/;

/** Splits a header's text into top-level items. */
export function scanTopLevel(source: string): TopLevel {
  const lines = stripComments(source).split('\n');
  const items: TopLevelItem[] = [];
  const directives: string[] = [];
  const directiveMentions = new Set<string>();
  const conditions: string[] = [];
  let pending: Token[] = [];
  let braceDepth = 0;
  let parenDepth = 0;
  let functionBody = false;
  const context = () => conditions.join(' | ');
  const flush = () => {
    if (pending.length > 0) items.push(codeItem(pending, context()));
    pending = [];
    functionBody = false;
  };
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (/^\s*#/.test(line)) {
      while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]}`;
      const directive = line.trim().replace(/\s+/g, ' ');
      if (braceDepth > 0 || parenDepth > 0) {
        // inside an item (an #ifdef in a function body): part of that item
        pending.push(...tokenize(directive).map((t) => t));
        pending.push({ kind: 'punct', value: '\n#' });
        continue;
      }
      const tokens = tokenize(directive.replace(/^#\s*/, ''));
      const define = /^#\s*define\s+([A-Za-z_]\w*)/.exec(directive);
      if (define) {
        items.push({
          text: directive,
          context: context(),
          names: [define[1]!],
          mentions: new Set(tokens.filter((t) => t.kind === 'id').map((t) => t.value)),
          onDemand: true,
        });
        continue;
      }
      for (const t of tokens.slice(1)) if (t.kind === 'id') directiveMentions.add(t.value);
      const conditional = CONDITIONAL.exec(directive);
      if (!conditional) {
        directives.push(`${context()} ${directive}`);
        continue;
      }
      const kind = conditional[1]!;
      if (kind === 'endif') conditions.pop();
      else if (kind === 'else' || kind === 'elif') {
        conditions.pop();
        conditions.push(directive);
      } else conditions.push(directive);
      continue;
    }
    for (const token of tokenize(line)) {
      pending.push(token);
      const v = token.value;
      if (v === '(') parenDepth++;
      else if (v === ')') parenDepth--;
      else if (v === '{') {
        if (braceDepth === 0 && parenDepth === 0) functionBody = isFunctionHead(pending);
        braceDepth++;
      } else if (v === '}') {
        braceDepth--;
        if (braceDepth === 0 && functionBody) flush();
      } else if (v === ';' && braceDepth === 0 && parenDepth === 0) flush();
    }
  }
  flush();
  return { items, directives, directiveMentions };
}

/** `... name(args) attrs {`: a function body opens (not a struct body or an initializer). */
function isFunctionHead(tokens: Token[]): boolean {
  const head = tokens.slice(0, -1);
  if (head.some((t) => t.value === '=')) return false;
  if (head.some((t) => t.value === 'struct' || t.value === 'union' || t.value === 'enum')) {
    // `struct x *f(void) {` is a function; `struct x {` is not
    return head[head.length - 1]?.value === ')';
  }
  return head[head.length - 1]?.value === ')' || head.some((t) => t.value === '(');
}
