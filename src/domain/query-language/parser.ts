// Recursive-descent parser of the ECS cluster query language: text → syntax tree (ast.ts), or a
// QuerySyntaxError saying what was expected, what was found and at which column.
//
//   expression := or
//   or         := and  ( ('or'  | '||') and )*
//   and        := unary ( ('and' | '&&') unary )*
//   unary      := ('not' | '!') unary | primary
//   primary    := '(' or ')' | subject operator [argument]
//   argument   := value | '[' value (',' value)* ']'          value := word | 'quoted' | "quoted"
//
// Precedence is the usual one (ECS documents only that parentheses set it): not binds tightest,
// then and, then or; so `a or b and not c` is `a or (b and (not c))`. Operator words, `and`,
// `or` and `not` are read without regard to case; subjects are spelled exactly. Which operators a
// subject takes is checked here (ast.ts VALID_OPERATORS); what the values mean (numbers, versions,
// dates, regular expressions) is checked when the tree is compiled (compile.ts).
import {
  OPERATOR_DISPLAY,
  OPERATOR_SYMBOLS,
  OPERATOR_WORDS,
  VALID_OPERATORS,
  subjectName,
  type Argument,
  type Literal,
  type Operator,
  type QueryNode,
  type Subject,
} from './ast.js';
import { QuerySyntaxError, tokenize, type Token } from './tokens.js';

const FIXED_SUBJECTS: Readonly<Record<string, Subject>> = {
  agentConnected: { kind: 'agentConnected' },
  agentVersion: { kind: 'agentVersion' },
  ec2InstanceId: { kind: 'ec2InstanceId' },
  registeredAt: { kind: 'registeredAt' },
  runningTasksCount: { kind: 'runningTasksCount' },
  'task:group': { kind: 'taskGroup' },
};
const ATTRIBUTE_PREFIX = 'attribute:';
const SUBJECT_LIST =
  'agentConnected, agentVersion, attribute:<name>, ec2InstanceId, registeredAt, runningTasksCount or task:group';

function quoteForMessage(t: Token): string {
  if (t.kind === 'eof') return 'the end of the expression';
  return t.kind === 'string' ? t.text : `'${t.text}'`;
}

function isKeyword(t: Token, ...words: string[]): boolean {
  return t.kind === 'word' && words.includes(t.value.toLowerCase());
}

class Parser {
  private at = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.at + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.at < this.tokens.length - 1) this.at++;
    return t;
  }

  parseExpression(): QueryNode {
    const node = this.parseOr();
    const t = this.peek();
    if (t.kind === 'rparen') throw new QuerySyntaxError("unexpected ')' without a matching '('", t.start);
    if (t.kind !== 'eof') {
      throw new QuerySyntaxError(
        `unexpected ${quoteForMessage(t)}; expected 'and', 'or' or the end of the expression`,
        t.start,
      );
    }
    return node;
  }

  private parseOr(): QueryNode {
    const items = [this.parseAnd()];
    while (isKeyword(this.peek(), 'or') || (this.peek().kind === 'symbol' && this.peek().value === '||')) {
      this.next();
      items.push(this.parseAnd());
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }

  private parseAnd(): QueryNode {
    const items = [this.parseUnary()];
    while (isKeyword(this.peek(), 'and') || (this.peek().kind === 'symbol' && this.peek().value === '&&')) {
      this.next();
      items.push(this.parseUnary());
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  private parseUnary(): QueryNode {
    const t = this.peek();
    if (isKeyword(t, 'not') || (t.kind === 'symbol' && t.value === '!')) {
      this.next();
      return { kind: 'not', operand: this.parseUnary() };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): QueryNode {
    const t = this.peek();
    if (t.kind === 'lparen') {
      this.next();
      const inner = this.parseOr();
      const close = this.peek();
      if (close.kind !== 'rparen') {
        throw new QuerySyntaxError(
          `expected ')' to close the '(' at column ${t.start + 1}, found ${quoteForMessage(close)}`,
          close.start,
        );
      }
      this.next();
      return inner;
    }
    return this.parseComparison();
  }

  private parseSubject(): { subject: Subject; token: Token } {
    const t = this.next();
    if (t.kind !== 'word') {
      throw new QuerySyntaxError(
        `expected a subject (${SUBJECT_LIST}), found ${quoteForMessage(t)}`,
        t.start,
      );
    }
    const fixed = FIXED_SUBJECTS[t.value];
    if (fixed) return { subject: fixed, token: t };
    if (t.value.startsWith(ATTRIBUTE_PREFIX)) {
      const name = t.value.slice(ATTRIBUTE_PREFIX.length);
      if (name === '') {
        throw new QuerySyntaxError(
          `an attribute name must follow 'attribute:'`,
          t.start + ATTRIBUTE_PREFIX.length,
        );
      }
      return { subject: { kind: 'attribute', name }, token: t };
    }
    const lower = t.value.toLowerCase();
    const hint = Object.keys(FIXED_SUBJECTS).find((s) => s.toLowerCase() === lower);
    const suggestion = hint !== undefined ? `; did you mean '${hint}'?` : `; expected ${SUBJECT_LIST}`;
    throw new QuerySyntaxError(`unknown subject '${t.text}'${suggestion}`, t.start);
  }

  private parseOperator(subjectToken: Token): { operator: Operator; token: Token } {
    const t = this.peek();
    if (t.kind === 'symbol') {
      const bySymbol = OPERATOR_SYMBOLS[t.value];
      if (bySymbol !== undefined) {
        this.next();
        return { operator: bySymbol, token: t };
      }
      if (t.value === '!' && isKeyword(this.peek(1), 'exists', 'in')) {
        this.next();
        const word = this.next();
        return { operator: word.value.toLowerCase() === 'in' ? 'not_in' : 'not_exists', token: t };
      }
      if (t.value === '=') {
        throw new QuerySyntaxError(`unknown operator '='; did you mean '=='?`, t.start);
      }
    }
    if (t.kind === 'word' && OPERATOR_WORDS.has(t.value.toLowerCase())) {
      this.next();
      return { operator: t.value.toLowerCase() as Operator, token: t };
    }
    const found = t.kind === 'eof' ? '' : `, found '${t.text}'`;
    throw new QuerySyntaxError(`expected an operator after '${subjectToken.text}'${found}`, t.start);
  }

  private parseValue(after: Token, operator: Operator): Literal {
    const t = this.peek();
    if (t.kind === 'string') {
      this.next();
      return { value: t.value, position: t.start };
    }
    if (t.kind === 'word' && !isKeyword(t, 'and', 'or', 'not')) {
      this.next();
      return { value: t.value, position: t.start };
    }
    if (t.kind === 'lbracket' && operator !== 'in' && operator !== 'not_in') {
      throw new QuerySyntaxError(
        `'${after.text}' compares with one value, not a list; use 'in' or '!in' for a list`,
        t.start,
      );
    }
    const quoteHint = t.kind === 'word' ? ` (quote it to use it as a value)` : '';
    throw new QuerySyntaxError(
      `expected a value after '${after.text}', found ${quoteForMessage(t)}${quoteHint}`,
      t.start,
    );
  }

  private parseList(after: Token, operator: Operator): Argument {
    const open = this.peek();
    if (open.kind !== 'lbracket') {
      throw new QuerySyntaxError(
        `'${after.text}' expects a list such as [a, b], found ${quoteForMessage(open)}`,
        open.start,
      );
    }
    this.next();
    if (this.peek().kind === 'rbracket') {
      throw new QuerySyntaxError(`the list after '${after.text}' is empty`, this.peek().start);
    }
    const items: Literal[] = [];
    for (;;) {
      const bracketHint = this.peek().kind === 'lbracket' ? 'lists cannot be nested' : '';
      if (bracketHint) throw new QuerySyntaxError(bracketHint, this.peek().start);
      items.push(this.parseValue(after, operator));
      const t = this.next();
      if (t.kind === 'rbracket') return { kind: 'list', items, position: open.start };
      if (t.kind !== 'comma') {
        throw new QuerySyntaxError(
          `expected ',' or ']' in the list that starts at column ${open.start + 1}, found ${quoteForMessage(t)}`,
          t.start,
        );
      }
    }
  }

  private parseComparison(): QueryNode {
    const { subject, token: subjectToken } = this.parseSubject();
    const { operator, token: operatorToken } = this.parseOperator(subjectToken);
    const valid = VALID_OPERATORS[subject.kind];
    if (!valid.includes(operator)) {
      throw new QuerySyntaxError(
        `operator '${operatorToken.text}' cannot be used with ${subjectName(subject)}; use one of ${valid
          .map((o) => OPERATOR_DISPLAY[o])
          .join(', ')}`,
        operatorToken.start,
      );
    }
    let argument: Argument;
    if (operator === 'exists' || operator === 'not_exists') argument = { kind: 'none' };
    else if (operator === 'in' || operator === 'not_in') argument = this.parseList(operatorToken, operator);
    else argument = { kind: 'value', literal: this.parseValue(operatorToken, operator) };
    return {
      kind: 'compare',
      subject,
      subjectText: subjectToken.text,
      operator,
      argument,
      position: subjectToken.start,
    };
  }
}

/** The syntax tree of `text`; throws QuerySyntaxError when it is malformed. */
export function parseQuery(text: string): QueryNode {
  const tokens = tokenize(text);
  if (tokens.length === 1) throw new QuerySyntaxError('the expression is empty', 0);
  return new Parser(tokens).parseExpression();
}
