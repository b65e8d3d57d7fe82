import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isEcsError } from '../domain/errors.js';
import {
  DEFAULT_SERVICE_STRATEGY,
  DEFAULT_TASK_STRATEGY,
  MAX_PLACEMENT_CONSTRAINTS,
  parsePlacementConstraints,
  parsePlacementStrategies,
} from './placement-spec.js';

function refused(f: () => unknown, message: string): void {
  assert.throws(
    f,
    (e: unknown) => isEcsError(e) && e.code === 'InvalidParameterException' && e.message === message,
  );
}

describe('parsePlacementStrategies', () => {
  it('compiles each strategy type and field, in order', () => {
    assert.deepEqual(
      parsePlacementStrategies([
        { type: 'spread', field: 'attribute:ecs.availability-zone' },
        { type: 'spread', field: 'instanceId' },
        { type: 'spread', field: 'host' },
        { type: 'binpack', field: 'MEMORY' },
        { type: 'random', field: 'ignored' },
      ]),
      [
        { type: 'spread', field: { kind: 'attribute', name: 'ecs.availability-zone' } },
        { type: 'spread', field: { kind: 'instance' } },
        { type: 'spread', field: { kind: 'instance' } },
        { type: 'binpack', field: 'memory' },
        { type: 'random' },
      ],
    );
    assert.deepEqual(parsePlacementStrategies(undefined), []);
    assert.deepEqual(parsePlacementStrategies([{ type: 'binpack', field: 'cpu' }]), [
      { type: 'binpack', field: 'cpu' },
    ]);
  });

  it('refuses bad types, fields and more than 5 strategies, naming the member', () => {
    refused(
      () => parsePlacementStrategies([{ type: 'binpack', field: 'disk' }]),
      "placementStrategy[0].field must be cpu or memory for a binpack strategy; got 'disk'.",
    );
    refused(
      () => parsePlacementStrategies([{ type: 'random' }, { type: 'spread' }]),
      "placementStrategy[1].field must be instanceId, host or attribute:<name> for a spread strategy; got ''.",
    );
    refused(
      () => parsePlacementStrategies([{ type: 'spread', field: 'attribute:' }]),
      "placementStrategy[0].field must be instanceId, host or attribute:<name> for a spread strategy; got 'attribute:'.",
    );
    refused(
      () => parsePlacementStrategies([{ type: 'pack' as 'random' }]),
      "placementStrategy[0].type must be one of random, spread, binpack; got 'pack'.",
    );
    refused(
      () => parsePlacementStrategies(Array.from({ length: 6 }, () => ({ type: 'random' as const }))),
      'placementStrategy can have at most 5 strategies; got 6.',
    );
  });

  it('offers the defaults as wire strategies that parse', () => {
    assert.deepEqual(parsePlacementStrategies(DEFAULT_SERVICE_STRATEGY), [
      { type: 'spread', field: { kind: 'attribute', name: 'ecs.availability-zone' } },
      { type: 'spread', field: { kind: 'instance' } },
    ]);
    assert.deepEqual(parsePlacementStrategies(DEFAULT_TASK_STRATEGY), [
      { type: 'spread', field: { kind: 'instance' } },
    ]);
    assert.ok(Object.isFrozen(DEFAULT_SERVICE_STRATEGY) && Object.isFrozen(DEFAULT_SERVICE_STRATEGY[0]));
  });
});

describe('parsePlacementConstraints', () => {
  it('compiles the task definition constraints first, then the request constraints', () => {
    const out = parsePlacementConstraints(
      [{ type: 'distinctInstance' }, { type: 'memberOf', expression: 'attribute:stack == prod' }],
      [{ type: 'memberOf', expression: 'runningTasksCount < 5' }],
    );
    assert.deepEqual(
      out.map((c) => (c.type === 'memberOf' ? `${c.member}: ${c.query.text}` : c.type)),
      [
        'taskDefinition.placementConstraints[0]: runningTasksCount < 5',
        'distinctInstance',
        'placementConstraints[1]: attribute:stack == prod',
      ],
    );
    assert.deepEqual(parsePlacementConstraints(undefined), []);
  });

  it('refuses malformed constraints with the member and, for expressions, the column', () => {
    refused(
      () => parsePlacementConstraints([{ type: 'memberOf', expression: 'attribute:ecs.instance-type' }]),
      "placementConstraints[0].expression is not a valid cluster query expression: expected an operator after 'attribute:ecs.instance-type' at column 28.",
    );
    refused(
      () => parsePlacementConstraints([{ type: 'memberOf' }]),
      'placementConstraints[0].expression is required for a memberOf constraint.',
    );
    refused(
      () => parsePlacementConstraints([{ type: 'distinctInstance', expression: 'x' }]),
      'placementConstraints[0].expression cannot be set for a distinctInstance constraint.',
    );
    refused(
      () => parsePlacementConstraints([{ type: 'other' as 'memberOf' }]),
      "placementConstraints[0].type must be distinctInstance or memberOf; got 'other'.",
    );
    refused(
      () => parsePlacementConstraints([], [{ type: 'distinctInstance' as 'memberOf' }]),
      "taskDefinition.placementConstraints[0].type must be memberOf; got 'distinctInstance'.",
    );
    refused(
      () =>
        parsePlacementConstraints(
          Array.from({ length: 6 }, () => ({ type: 'distinctInstance' as const })),
          Array.from({ length: MAX_PLACEMENT_CONSTRAINTS - 5 }, () => ({
            type: 'memberOf' as const,
            expression: 'agentConnected == true',
          })),
        ),
      "A task can have at most 10 placement constraints, the task definition's and the request's together; got 11.",
    );
  });
});
