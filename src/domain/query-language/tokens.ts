// Tokenizer of the ECS cluster query language (memberOf expressions, ListContainerInstances
// `filter`). It knows characters, not grammar: words, quoted strings, brackets, commas and the
// symbolic operators. Which word is a subject, an operator word (`equals`, `and`...) or a value
// is the parser's business, because the same word can be each of them depending on where it is.
//
// Bare words run until whitespace or one of  ( ) [ ] , ' "  or an operator symbol
// (= < > and the pairs != !~ && ||). So `t2.*`, `us-east-1a`, `2018-06-18T22:28:28+00:00`
// and `service:web` are single words, and `attribute:stack==prod` splits into three tokens.
// A value holding any of those characters (a regular expression with brackets, an attribute
// value with spaces) is written in quotes: '...' or "...". Inside quotes a backslash escapes
// the quote character and a backslash; any other backslash is kept, so regular expressions
// such as '^m5\..*' need no doubling.

export type TokenKind =
  'word' | 'string' | 'lparen' | 'rparen' | 'lbracket' | 'rbracket' | 'comma' | 'symbol' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The token as written (for a string: with its quotes). */
  text: string;
  /** word: the word; string: the unquoted, unescaped content; symbol: the symbol. */
  value: string;
  /** 0-based offsets into the expression: [start, end). */
  start: number;
  end: number;
}

/** A malformed expression; `position` is the 0-based offset the message's column refers to. */
export class QuerySyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`${reason} at column ${position + 1}`);
    this.name = 'QuerySyntaxError';
  }
}

const SINGLE: Record<string, TokenKind> = {
  '(': 'lparen',
  ')': 'rparen',
  '[': 'lbracket',
  ']': 'rbracket',
  ',': 'comma',
};

/** Two-character symbols first, so `>=` is not read as `>` then `=`. */
const SYMBOLS = ['==', '!=', '>=', '<=', '=~', '!~', '&&', '||', '>', '<', '=', '!'] as const;

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

function symbolAt(text: string, i: number): string | undefined {
  for (const s of SYMBOLS) if (text.startsWith(s, i)) return s;
  return undefined;
}

/** Where a bare word stops: whitespace, punctuation, quotes, or a symbol that is an operator. */
function endsWord(text: string, i: number): boolean {
  const c = text[i]!;
  if (isSpace(c) || c in SINGLE || c === "'" || c === '"') return true;
  if (c === '=' || c === '<' || c === '>') return true;
  const pair = text.slice(i, i + 2);
  return pair === '!=' || pair === '!~' || pair === '&&' || pair === '||';
}

function readQuoted(text: string, start: number): Token {
  const quote = text[start]!;
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === quote) {
      return { kind: 'string', text: text.slice(start, i + 1), value, start, end: i + 1 };
    }
    if (c === '\\' && (text[i + 1] === quote || text[i + 1] === '\\')) {
      value += text[i + 1];
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  throw new QuerySyntaxError(`unterminated quoted string (no closing ${quote})`, start);
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    const single = SINGLE[c];
    if (single !== undefined) {
      tokens.push({ kind: single, text: c, value: c, start: i, end: i + 1 });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const t = readQuoted(text, i);
      tokens.push(t);
      i = t.end;
      continue;
    }
    const symbol = symbolAt(text, i);
    // `!` alone is negation (or the start of `!exists` / `!in`); a lone `&` or `|` belongs to a word.
    if (symbol !== undefined) {
      tokens.push({ kind: 'symbol', text: symbol, value: symbol, start: i, end: i + symbol.length });
      i += symbol.length;
      continue;
    }
    const start = i;
    i++;
    while (i < text.length && !endsWord(text, i)) i++;
    const word = text.slice(start, i);
    tokens.push({ kind: 'word', text: word, value: word, start, end: i });
  }
  tokens.push({ kind: 'eof', text: '', value: '', start: text.length, end: text.length });
  return tokens;
}
