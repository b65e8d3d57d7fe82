import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isEcsError } from '../domain/errors.js';
import { assignCapacityProviders } from '../domain/task/capacity.js';
import { splitCapacity } from './capacity-split.js';

const item = (capacityProvider: string, weight: number, base = 0) => ({ capacityProvider, weight, base });
const tally = (names: string[]) =>
  names.reduce<Record<string, number>>((o, n) => ({ ...o, [n]: (o[n] ?? 0) + 1 }), {});

describe('splitCapacity', () => {
  it('with nothing running, answers exactly as assignCapacityProviders (RunTask)', () => {
    const strategies = [
      [item('A', 1, 2), item('B', 1)],
      [item('A', 1), item('B', 3)],
      [item('A', 0, 3), item('B', 2), item('C', 5)],
      [item('A', 7), item('B', 3), item('C', 1, 1)],
      [item('FARGATE', 1)],
    ];
    for (const s of strategies) {
      for (const count of [1, 2, 5, 10, 37]) {
        assert.deepEqual(
          splitCapacity(s, count),
          assignCapacityProviders(s, count),
          `${JSON.stringify(s)} × ${count}`,
        );
      }
    }
  });

  it('fills the base first, then shares by weight', () => {
    assert.deepEqual(tally(splitCapacity([item('A', 1, 2), item('B', 1)], 6)), { A: 4, B: 2 });
    assert.deepEqual(tally(splitCapacity([item('A', 1), item('B', 4)], 10)), { A: 2, B: 8 });
  });

  it('counts running tasks: a base already met is not filled again, and weights hold over the whole service', () => {
    assert.deepEqual(splitCapacity([item('A', 1, 2), item('B', 1)], 2, new Map([['A', 2]])), ['A', 'B']);
    assert.deepEqual(splitCapacity([item('A', 1, 2), item('B', 1)], 3, new Map([['A', 1]])), ['A', 'A', 'B']);
    // A runs 4 beyond its base, B none: B catches up before A gets more.
    assert.deepEqual(splitCapacity([item('A', 1, 2), item('B', 1)], 5, new Map([['A', 6]])), [
      'B',
      'B',
      'B',
      'B',
      'A',
    ]);
    const after = tally(
      splitCapacity(
        [item('A', 1), item('B', 3)],
        8,
        new Map([
          ['A', 3],
          ['B', 1],
        ]),
      ),
    );
    assert.deepEqual(after, { B: 8 }, 'totals become A 3, B 9: exactly 1:3');
  });

  it('refuses to place beyond the base when no provider has a weight', () => {
    assert.deepEqual(splitCapacity([item('A', 0, 2)], 2), ['A', 'A']);
    assert.throws(
      () => splitCapacity([item('A', 0, 2)], 1, new Map([['A', 2]])),
      (e: unknown) => isEcsError(e) && /weight greater than 0/.test(e.message),
    );
    assert.throws(() => splitCapacity([], 1), /non-empty strategy/);
  });
});
