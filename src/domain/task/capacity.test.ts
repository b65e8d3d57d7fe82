import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isEcsError } from '../errors.js';
import { assignCapacityProviders, capacityFromStrategy } from './capacity.js';

const item = (capacityProvider: string, weight: number, base = 0) => ({ capacityProvider, weight, base });

describe('assignCapacityProviders', () => {
  it('fills the base first, then shares by weight', () => {
    assert.deepEqual(assignCapacityProviders([item('A', 1, 2), item('B', 1)], 6), [
      'A',
      'A',
      'A',
      'B',
      'A',
      'B',
    ]);
    assert.deepEqual(assignCapacityProviders([item('A', 1), item('B', 3)], 4), ['B', 'B', 'A', 'B']);
  });

  it('gives a lone provider every task', () => {
    assert.deepEqual(assignCapacityProviders([item('FARGATE', 1)], 3), ['FARGATE', 'FARGATE', 'FARGATE']);
  });

  it('refuses to place beyond the base when no provider has a weight', () => {
    assert.deepEqual(assignCapacityProviders([item('A', 0, 2)], 2), ['A', 'A']);
    assert.throws(
      () => assignCapacityProviders([item('A', 0, 1)], 2),
      (e: unknown) =>
        isEcsError(e) && e.code === 'InvalidParameterException' && /weight greater than 0/.test(e.message),
    );
  });
});

describe('capacityFromStrategy', () => {
  it('runs Fargate providers as FARGATE and others as EC2', () => {
    assert.deepEqual(capacityFromStrategy([item('FARGATE_SPOT', 1)], 1), [
      { launchType: 'FARGATE', capacityProviderName: 'FARGATE_SPOT' },
    ]);
    assert.deepEqual(capacityFromStrategy([item('my-asg', 1)], 1), [
      { launchType: 'EC2', capacityProviderName: 'my-asg' },
    ]);
  });
});
