import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { QueryNode } from './ast.js';
import { parseQuery } from './parser.js';
import { QuerySyntaxError } from './tokens.js';

/** A compact rendering of a tree: comparisons as `subject op arg`, combinators as prefix forms. */
function show(n: QueryNode): string {
  switch (n.kind) {
    case 'or':
      return `or(${n.items.map(show).join(', ')})`;
    case 'and':
      return `and(${n.items.map(show).join(', ')})`;
    case 'not':
      return `not(${show(n.operand)})`;
    case 'compare': {
      const subject = n.subject.kind === 'attribute' ? `@${n.subject.name}` : n.subject.kind;
      const arg =
        n.argument.kind === 'none'
          ? ''
          : n.argument.kind === 'value'
            ? ` ${n.argument.literal.value}`
            : ` [${n.argument.items.map((i) => i.value).join('|')}]`;
      return `${subject} ${n.operator}${arg}`;
    }
  }
}

function syntaxError(text: string): QuerySyntaxError {
  try {
    parseQuery(text);
  } catch (e) {
    if (e instanceof QuerySyntaxError) return e;
    throw e;
  }
  assert.fail(`'${text}' parsed`);
}

describe('parseQuery: comparisons', () => {
  it('reads each operator in symbol and word form to the same operator', () => {
    const pairs: [string, string, string][] = [
      ['==', 'equals', 'equals'],
      ['!=', 'not_equals', 'not_equals'],
      ['>', 'greater_than', 'greater_than'],
      ['>=', 'greater_than_equal', 'greater_than_equal'],
      ['<', 'less_than', 'less_than'],
      ['<=', 'less_than_equal', 'less_than_equal'],
      ['=~', 'matches', 'matches'],
      ['!~', 'not_matches', 'not_matches'],
    ];
    for (const [symbol, word, op] of pairs) {
      assert.equal(show(parseQuery(`attribute:a ${symbol} 1`)), `@a ${op} 1`, symbol);
      assert.equal(show(parseQuery(`attribute:a ${word} 1`)), `@a ${op} 1`, word);
      assert.equal(
        show(parseQuery(`attribute:a ${word.toUpperCase()} 1`)),
        `@a ${op} 1`,
        'word forms ignore case',
      );
    }
    assert.equal(show(parseQuery('attribute:a exists')), '@a exists');
    assert.equal(show(parseQuery('attribute:a !exists')), '@a not_exists');
    assert.equal(show(parseQuery('attribute:a not_exists')), '@a not_exists');
    assert.equal(show(parseQuery('attribute:a in [x, y]')), '@a in [x|y]');
    assert.equal(show(parseQuery('attribute:a !in [x]')), '@a not_in [x]');
    assert.equal(show(parseQuery('attribute:a not_in [x]')), '@a not_in [x]');
  });

  it('reads every subject', () => {
    assert.equal(show(parseQuery('agentConnected == true')), 'agentConnected equals true');
    assert.equal(show(parseQuery('agentVersion < 1.14.5')), 'agentVersion less_than 1.14.5');
    assert.equal(
      show(parseQuery('attribute:ecs.instance-type == t2.small')),
      '@ecs.instance-type equals t2.small',
    );
    assert.equal(show(parseQuery('ec2InstanceId in [i-1, i-2]')), 'ec2InstanceId in [i-1|i-2]');
    assert.equal(show(parseQuery('registeredAt < 2018-02-13')), 'registeredAt less_than 2018-02-13');
    assert.equal(show(parseQuery('runningTasksCount == 1')), 'runningTasksCount equals 1');
    assert.equal(show(parseQuery('task:group == service:production')), 'taskGroup equals service:production');
  });

  it('takes quoted values and quoted list items', () => {
    assert.equal(
      show(parseQuery(`ec2InstanceId in ['i-abcd1234', "i-wxyz1234"]`)),
      'ec2InstanceId in [i-abcd1234|i-wxyz1234]',
    );
    assert.equal(show(parseQuery(`attribute:team == 'web and api'`)), '@team equals web and api');
    assert.equal(show(parseQuery(`attribute:a == 'and'`)), '@a equals and', 'a quoted keyword is a value');
  });
});

describe('parseQuery: combinators and precedence', () => {
  it('binds not tighter than and, and tighter than or', () => {
    assert.equal(
      show(parseQuery('attribute:a == 1 or attribute:b == 2 and not attribute:c == 3')),
      'or(@a equals 1, and(@b equals 2, not(@c equals 3)))',
    );
    assert.equal(
      show(parseQuery('not attribute:a == 1 and attribute:b == 2')),
      'and(not(@a equals 1), @b equals 2)',
    );
  });

  it('lets parentheses override precedence, and accepts the symbol forms', () => {
    assert.equal(
      show(parseQuery('(attribute:a == 1 || attribute:b == 2) && !(attribute:c == 3)')),
      'and(or(@a equals 1, @b equals 2), not(@c equals 3))',
    );
    assert.equal(show(parseQuery('not(task:group == database)')), 'not(taskGroup equals database)');
    assert.equal(show(parseQuery('((runningTasksCount == 0))')), 'runningTasksCount equals 0');
    assert.equal(show(parseQuery('! ! agentConnected == true')), 'not(not(agentConnected equals true))');
  });

  it('flattens chains of the same combinator', () => {
    assert.equal(
      show(parseQuery('attribute:a exists AND attribute:b exists and attribute:c exists')),
      'and(@a exists, @b exists, @c exists)',
    );
  });
});

describe('parseQuery: errors say what, where and why', () => {
  const cases: [string, string][] = [
    ['attribute:ecs.instance-type', "expected an operator after 'attribute:ecs.instance-type' at column 28"],
    [
      'attribute:ecs.instance-type t2.micro',
      "expected an operator after 'attribute:ecs.instance-type', found 't2.micro' at column 29",
    ],
    ['', 'the expression is empty at column 1'],
    ['   ', 'the expression is empty at column 1'],
    [
      'agentconnected == true',
      "unknown subject 'agentconnected'; did you mean 'agentConnected'? at column 1",
    ],
    [
      'runningTasksCount == 1 and foo == 2',
      "unknown subject 'foo'; expected agentConnected, agentVersion, attribute:<name>, ec2InstanceId, registeredAt, runningTasksCount or task:group at column 28",
    ],
    ['attribute: == x', "an attribute name must follow 'attribute:' at column 11"],
    ['attribute:a = x', "unknown operator '='; did you mean '=='? at column 13"],
    ['attribute:a ==', "expected a value after '==', found the end of the expression at column 15"],
    [
      'attribute:a == and',
      "expected a value after '==', found 'and' (quote it to use it as a value) at column 16",
    ],
    [
      'attribute:a == [x]',
      "'==' compares with one value, not a list; use 'in' or '!in' for a list at column 16",
    ],
    ['attribute:a in x', "'in' expects a list such as [a, b], found 'x' at column 16"],
    ['attribute:a in []', "the list after 'in' is empty at column 17"],
    [
      'attribute:a in [x y]',
      "expected ',' or ']' in the list that starts at column 16, found 'y' at column 19",
    ],
    ['attribute:a in [x,', "expected a value after 'in', found the end of the expression at column 19"],
    ['attribute:a in [[x]]', 'lists cannot be nested at column 17'],
    [
      'agentVersion exists',
      "operator 'exists' cannot be used with agentVersion; use one of ==, !=, >, >=, <, <= at column 14",
    ],
    [
      'ec2InstanceId > i-1',
      "operator '>' cannot be used with ec2InstanceId; use one of ==, !=, in, !in, =~, !~ at column 15",
    ],
    [
      'task:group >= x',
      "operator '>=' cannot be used with task:group; use one of ==, !=, in, !in, =~, !~ at column 12",
    ],
    [
      '(attribute:a exists',
      "expected ')' to close the '(' at column 1, found the end of the expression at column 20",
    ],
    ['attribute:a exists)', "unexpected ')' without a matching '(' at column 19"],
    [
      'attribute:a exists x',
      "unexpected 'x'; expected 'and', 'or' or the end of the expression at column 20",
    ],
    [
      'attribute:a exists and',
      'expected a subject (agentConnected, agentVersion, attribute:<name>, ec2InstanceId, registeredAt, runningTasksCount or task:group), found the end of the expression at column 23',
    ],
    [
      "'attribute:a' exists",
      "expected a subject (agentConnected, agentVersion, attribute:<name>, ec2InstanceId, registeredAt, runningTasksCount or task:group), found 'attribute:a' at column 1",
    ],
  ];
  for (const [text, message] of cases) {
    it(`'${text}'`, () => {
      const e = syntaxError(text);
      assert.equal(e.message, message);
      assert.equal(e.message.endsWith(`at column ${e.position + 1}`), true);
    });
  }
});
