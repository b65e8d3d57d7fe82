import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerDefinition } from '../../generated/ecs/types.js';
import { assertEcsError, container } from '../task-definition/test-support.js';
import { MAX_OVERRIDES_LENGTH, resolveOverrides, withContainerOverrides } from './overrides.js';

const def = (containers: ContainerDefinition[], cpu?: string, memory?: string) => ({
  containerDefinitions: containers,
  ...(cpu !== undefined ? { cpu } : {}),
  ...(memory !== undefined ? { memory } : {}),
});

describe('resolveOverrides', () => {
  it('stores one containerOverride per container, name only when nothing is overridden', () => {
    const r = resolveOverrides(def([container('web'), container('side')]), undefined, 'EC2');
    assert.deepEqual(r.overrides, {
      containerOverrides: [{ name: 'web' }, { name: 'side' }],
      inferenceAcceleratorOverrides: [],
    });
    assert.equal(r.cpu, undefined);
    assert.equal(r.memory, undefined);
  });

  it('keeps command and environment and applies container resources', () => {
    const r = resolveOverrides(
      def([container('web', { cpu: 10, memory: 64 }), container('side')]),
      {
        containerOverrides: [
          {
            name: 'web',
            command: ['sh', '-c', 'true'],
            environment: [{ name: 'A', value: '1' }],
            cpu: 20,
            memory: 128,
          },
        ],
      },
      'EC2',
    );
    assert.deepEqual(r.overrides.containerOverrides![0], {
      name: 'web',
      command: ['sh', '-c', 'true'],
      environment: [{ name: 'A', value: '1' }],
      cpu: 20,
      memory: 128,
    });
    assert.equal(r.containers[0]!.cpu, 20);
    assert.equal(r.containers[0]!.memory, 128);
    assert.equal(r.containers[1]!.memory, 64);
  });

  it('ignores an empty override without a name', () => {
    const r = resolveOverrides(def([container('web')]), { containerOverrides: [{}] }, 'EC2');
    assert.deepEqual(r.overrides.containerOverrides, [{ name: 'web' }]);
  });

  it('refuses unknown and duplicate container names, and a nameless non-empty override', () => {
    assertEcsError(
      () =>
        resolveOverrides(
          def([container('web')]),
          { containerOverrides: [{ name: 'db', command: ['x'] }] },
          'EC2',
        ),
      'InvalidParameterException',
      /^Override for container named db is not a container in the TaskDefinition\.$/,
    );
    assertEcsError(
      () =>
        resolveOverrides(
          def([container('web')]),
          { containerOverrides: [{ name: 'web' }, { name: 'web' }] },
          'EC2',
        ),
      'InvalidParameterException',
      /more than once/,
    );
    assertEcsError(
      () => resolveOverrides(def([container('web')]), { containerOverrides: [{ command: ['x'] }] }, 'EC2'),
      'InvalidParameterException',
      /containerOverrides\[0\]\.name is required/,
    );
  });

  it('refuses bad environment names and resource values', () => {
    assertEcsError(
      () =>
        resolveOverrides(
          def([container('web')]),
          { containerOverrides: [{ name: 'web', environment: [{ value: 'x' }] }] },
          'EC2',
        ),
      'InvalidParameterException',
      /environment\[0\]\.name is required/,
    );
    assertEcsError(
      () =>
        resolveOverrides(def([container('web')]), { containerOverrides: [{ name: 'web', cpu: -1 }] }, 'EC2'),
      'InvalidParameterException',
      /containerOverrides\[0\]\.cpu/,
    );
    assertEcsError(
      () =>
        resolveOverrides(
          def([container('web')]),
          { containerOverrides: [{ name: 'web', memory: 0 }] },
          'EC2',
        ),
      'InvalidParameterException',
      /containerOverrides\[0\]\.memory must be/,
    );
    // memory below the memoryReservation the definition has.
    assertEcsError(
      () =>
        resolveOverrides(
          def([container('web', { memory: undefined, memoryReservation: 256 })]),
          { containerOverrides: [{ name: 'web', memory: 128 }] },
          'EC2',
        ),
      'InvalidParameterException',
      /^overrides: .*'memory' \(128\) must be greater than or equal to 'memoryReservation' \(256\)/,
    );
  });

  it('refuses overrides longer than 8192 characters of JSON', () => {
    const big = 'x'.repeat(MAX_OVERRIDES_LENGTH);
    assertEcsError(
      () =>
        resolveOverrides(
          def([container('web')]),
          { containerOverrides: [{ name: 'web', command: [big] }] },
          'EC2',
        ),
      'InvalidParameterException',
      /^Container Overrides length must be at most 8192/,
    );
  });

  it('normalises task cpu/memory overrides and checks containers fit in them', () => {
    const r = resolveOverrides(
      def([container('web', { memory: 64 })], '256', '512'),
      { cpu: '1 vCPU', memory: '2GB' },
      'EC2',
    );
    assert.equal(r.cpu, '1024');
    assert.equal(r.memory, '2048');
    assert.equal(r.overrides.cpu, '1024');
    assert.equal(r.overrides.memory, '2048');
    assertEcsError(
      () =>
        resolveOverrides(def([container('web', { memory: 600 })], '256', '1024'), { memory: '512' }, 'EC2'),
      'InvalidParameterException',
      /^overrides: The 'memory' setting for container 'web' is greater than for the task/,
    );
    assertEcsError(
      () => resolveOverrides(def([container('web')]), { cpu: 'lots' }, 'EC2'),
      'InvalidParameterException',
      /^overrides: Invalid 'cpu' setting/,
    );
  });

  it('applies the Fargate size table to FARGATE tasks', () => {
    const fargate = def([container('web', { memory: undefined })], '256', '512');
    assert.equal(resolveOverrides(fargate, { cpu: '512', memory: '1024' }, 'FARGATE').cpu, '512');
    assertEcsError(
      () => resolveOverrides(fargate, { memory: '4096' }, 'FARGATE'),
      'InvalidParameterException',
      /^No Fargate configuration exists for given values: 256 CPU, 4096 memory/,
    );
    // The same override is fine on EC2.
    assert.equal(resolveOverrides(fargate, { memory: '4096' }, 'EC2').memory, '4096');
  });

  it('checks ephemeral storage and refuses what cannot be honoured', () => {
    const fargate = def([container('web', { memory: undefined })], '256', '512');
    assert.deepEqual(
      resolveOverrides(fargate, { ephemeralStorage: { sizeInGiB: 30 } }, 'FARGATE').overrides
        .ephemeralStorage,
      {
        sizeInGiB: 30,
      },
    );
    assertEcsError(
      () => resolveOverrides(fargate, { ephemeralStorage: { sizeInGiB: 20 } }, 'FARGATE'),
      'InvalidParameterException',
      /sizeInGiB must be between 21 and 200/,
    );
    assertEcsError(
      () => resolveOverrides(def([container('web')]), { ephemeralStorage: { sizeInGiB: 30 } }, 'EC2'),
      'InvalidParameterException',
      /only supported for tasks on FARGATE/,
    );
    assertEcsError(
      () =>
        resolveOverrides(
          def([container('web')]),
          {
            containerOverrides: [
              { name: 'web', environmentFiles: [{ value: 'arn:aws:s3:::b/f.env', type: 's3' }] },
            ],
          },
          'EC2',
        ),
      'InvalidParameterException',
      /environmentFiles/,
    );
  });
});

describe('withContainerOverrides', () => {
  it('overrides cpu, memory and memoryReservation only', () => {
    const [c] = withContainerOverrides(
      [container('web', { cpu: 1, memory: 64 })],
      [{ name: 'web', memoryReservation: 32, command: ['x'] }],
    );
    assert.equal(c!.cpu, 1);
    assert.equal(c!.memory, 64);
    assert.equal(c!.memoryReservation, 32);
    assert.equal(c!.command, undefined);
  });
});
