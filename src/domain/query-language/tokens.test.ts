import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QuerySyntaxError, tokenize } from './tokens.js';

const kinds = (text: string) => tokenize(text).map((t) => `${t.kind}:${t.value}`);

describe('tokenize', () => {
  it('reads words, symbols, brackets and commas with their offsets', () => {
    const tokens = tokenize('attribute:stack in [prod, staging]');
    assert.deepEqual(
      tokens.map((t) => [t.kind, t.value, t.start, t.end]),
      [
        ['word', 'attribute:stack', 0, 15],
        ['word', 'in', 16, 18],
        ['lbracket', '[', 19, 20],
        ['word', 'prod', 20, 24],
        ['comma', ',', 24, 25],
        ['word', 'staging', 26, 33],
        ['rbracket', ']', 33, 34],
        ['eof', '', 34, 34],
      ],
    );
  });

  it('keeps regular expressions, zones, dates and group names as single words', () => {
    assert.deepEqual(kinds('t2.* us-east-1a 2018-06-18T22:28:28+00:00 service:web a|b'), [
      'word:t2.*',
      'word:us-east-1a',
      'word:2018-06-18T22:28:28+00:00',
      'word:service:web',
      'word:a|b',
      'eof:',
    ]);
  });

  it('splits operators written without spaces and prefers two-character symbols', () => {
    assert.deepEqual(kinds('attribute:stack==prod'), [
      'word:attribute:stack',
      'symbol:==',
      'word:prod',
      'eof:',
    ]);
    assert.deepEqual(kinds('a>=1&&b<=2||c!=3'), [
      'word:a',
      'symbol:>=',
      'word:1',
      'symbol:&&',
      'word:b',
      'symbol:<=',
      'word:2',
      'symbol:||',
      'word:c',
      'symbol:!=',
      'word:3',
      'eof:',
    ]);
    assert.deepEqual(kinds('x =~ a !~ b'), ['word:x', 'symbol:=~', 'word:a', 'symbol:!~', 'word:b', 'eof:']);
    assert.deepEqual(kinds('!exists !in !(x)'), [
      'symbol:!',
      'word:exists',
      'symbol:!',
      'word:in',
      'symbol:!',
      'lparen:(',
      'word:x',
      'rparen:)',
      'eof:',
    ]);
    assert.deepEqual(kinds('not(x)'), ['word:not', 'lparen:(', 'word:x', 'rparen:)', 'eof:']);
  });

  it('unquotes strings, with backslash escapes for the quote and the backslash only', () => {
    const [a, b, c] = tokenize(`'with space' "it's" 'a\\'b\\\\c\\d'`);
    assert.deepEqual([a!.kind, a!.value, a!.text], ['string', 'with space', "'with space'"]);
    assert.equal(b!.value, "it's");
    assert.equal(c!.value, "a'b\\c\\d");
  });

  it('reports an unterminated string at its opening quote', () => {
    assert.throws(
      () => tokenize("attribute:a == 'open"),
      (e: unknown) =>
        e instanceof QuerySyntaxError &&
        e.position === 15 &&
        e.message === "unterminated quoted string (no closing ') at column 16",
    );
  });
});
