import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  gpuIdsPerContainer,
  gpuRequirements,
  placementGroupOf,
  requiredAttributesOf,
} from './task-request.js';

describe('gpuRequirements / gpuIdsPerContainer', () => {
  it('sums each container’s GPU requirements and shares the ids out in definition order', () => {
    const needs = gpuRequirements([
      { name: 'a', resourceRequirements: [{ type: 'GPU', value: '2' }] },
      { name: 'b' },
      { name: 'c', resourceRequirements: [{ type: 'InferenceAccelerator', value: 'x' }] },
      {
        name: 'd',
        resourceRequirements: [
          { type: 'GPU', value: '1' },
          { type: 'GPU', value: '0' },
        ],
      },
    ]);
    assert.deepEqual(needs, [
      { container: 'a', count: 2 },
      { container: 'd', count: 1 },
    ]);
    assert.deepEqual(
      [...gpuIdsPerContainer(needs, ['g0', 'g1', 'g2'])],
      [
        ['a', ['g0', 'g1']],
        ['d', ['g2']],
      ],
    );
    assert.deepEqual(
      gpuRequirements([{ name: 'x', resourceRequirements: [{ type: 'GPU', value: 'two' }] }]),
      [],
    );
  });
});

describe('placementGroupOf / requiredAttributesOf', () => {
  it('defaults the group to family:<family>, as ECS does', () => {
    assert.equal(placementGroupOf(undefined, 'web'), 'family:web');
    assert.equal(placementGroupOf('', 'web'), 'family:web');
    assert.equal(placementGroupOf('batch', 'web'), 'batch');
  });

  it('keeps a required attribute’s value only when one is given', () => {
    assert.deepEqual(
      requiredAttributesOf([
        { name: 'ecs.capability.task-eni' },
        { name: 'stack', value: 'prod', targetType: 'container-instance' },
      ]),
      [{ name: 'ecs.capability.task-eni' }, { name: 'stack', value: 'prod' }],
    );
    assert.deepEqual(requiredAttributesOf(undefined), []);
  });
});
