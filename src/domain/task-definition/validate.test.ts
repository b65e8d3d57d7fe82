import { describe, it } from 'node:test';
import {
  validateContainerCpu,
  validateContainerIdentities,
  validateContainerMemory,
  validateEphemeralStorage,
  validateFamily,
  validatePlacementConstraints,
  validateProxyConfiguration,
} from './validate.js';
import { assertEcsError, container } from './test-support.js';

describe('validateFamily', () => {
  it('accepts letters, numbers, underscores and hyphens up to 255', () => {
    validateFamily('web-App_2');
    validateFamily('f'.repeat(255));
  });
  it('rejects other characters, empty and too long names', () => {
    for (const bad of ['', 'web app', 'web:1', 'a/b', 'é', 'f'.repeat(256)]) {
      assertEcsError(
        () => validateFamily(bad),
        'ClientException',
        /Family '.*' is invalid: up to 255 letters/,
      );
    }
  });
});

describe('validateContainerIdentities', () => {
  it('accepts 1 to 10 uniquely named containers', () => {
    validateContainerIdentities([container('a')]);
    validateContainerIdentities(Array.from({ length: 10 }, (_, i) => container(`c${i}`)));
  });
  it('rejects no containers and more than 10', () => {
    assertEcsError(
      () => validateContainerIdentities([]),
      'ClientException',
      /Container list cannot be empty/,
    );
    assertEcsError(
      () => validateContainerIdentities(Array.from({ length: 11 }, (_, i) => container(`c${i}`))),
      'ClientException',
      /Too many containers: .* at most 10; got 11/,
    );
  });
  it('requires a name of the name alphabet, unique in the task', () => {
    assertEcsError(
      () => validateContainerIdentities([{ image: 'x', memory: 8 }]),
      'ClientException',
      /Container\.name should not be null or empty/,
    );
    assertEcsError(
      () => validateContainerIdentities([container('my app')]),
      'ClientException',
      /Container name 'my app' is invalid/,
    );
    assertEcsError(
      () => validateContainerIdentities([container('a'), container('a')]),
      'ClientException',
      /Duplicate container name 'a'/,
    );
  });
  it('requires an image', () => {
    assertEcsError(
      () => validateContainerIdentities([{ name: 'a', memory: 8 }]),
      'ClientException',
      /Container\.image should not be null or empty \(container 'a'\)/,
    );
    assertEcsError(
      () => validateContainerIdentities([container('a', { image: ' ' })]),
      'ClientException',
      /Container\.image/,
    );
  });
  it('requires at least one essential container (essential defaults to true)', () => {
    validateContainerIdentities([container('a', { essential: false }), container('b')]);
    assertEcsError(
      () =>
        validateContainerIdentities([
          container('a', { essential: false }),
          container('b', { essential: false }),
        ]),
      'ClientException',
      /At least one essential container/,
    );
  });
});

describe('validateContainerMemory', () => {
  it('without task memory, needs memory or memoryReservation per container', () => {
    validateContainerMemory(
      [container('a', { memory: 64 }), container('b', { memory: undefined, memoryReservation: 32 })],
      undefined,
    );
    assertEcsError(
      () => validateContainerMemory([container('a', { memory: undefined })], undefined),
      'ClientException',
      /Invalid setting for container 'a'\. At least one of 'memory' or 'memoryReservation' must be specified\./,
    );
  });
  it('with task memory, containers may leave memory out', () => {
    validateContainerMemory([container('a', { memory: undefined })], 512);
  });
  it('rejects memory below memoryReservation and accepts them equal', () => {
    validateContainerMemory([container('a', { memory: 128, memoryReservation: 128 })], undefined);
    validateContainerMemory([container('a', { memory: 256, memoryReservation: 128 })], undefined);
    assertEcsError(
      () => validateContainerMemory([container('a', { memory: 64, memoryReservation: 128 })], undefined),
      'ClientException',
      /container 'a'\. 'memory' \(64\) must be greater than or equal to 'memoryReservation' \(128\)/,
    );
  });
  it('rejects memory and memoryReservation below 6 MiB', () => {
    validateContainerMemory([container('a', { memory: 6 })], undefined);
    assertEcsError(
      () => validateContainerMemory([container('a', { memory: 5 })], undefined),
      'ClientException',
      /'memory' must be at least 6 MiB; got 5/,
    );
    assertEcsError(
      () => validateContainerMemory([container('a', { memory: undefined, memoryReservation: 4 })], undefined),
      'ClientException',
      /'memoryReservation' must be at least 6 MiB/,
    );
  });
  it('rejects a container memory above the task memory', () => {
    assertEcsError(
      () => validateContainerMemory([container('big', { memory: 1024 })], 512),
      'ClientException',
      /The 'memory' setting for container 'big' is greater than for the task/,
    );
  });
  it('rejects reservations adding up to more than the task memory', () => {
    validateContainerMemory(
      [
        container('a', { memory: undefined, memoryReservation: 256 }),
        container('b', { memory: undefined, memoryReservation: 256 }),
      ],
      512,
    );
    assertEcsError(
      () =>
        validateContainerMemory(
          [
            container('a', { memory: undefined, memoryReservation: 300 }),
            container('b', { memory: undefined, memoryReservation: 300 }),
          ],
          512,
        ),
      'ClientException',
      /sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory' \(600 > 512/,
    );
  });
});

describe('validateContainerCpu', () => {
  it('accepts container cpu adding up to the task cpu', () => {
    validateContainerCpu([container('a', { cpu: 128 }), container('b', { cpu: 128 }), container('c')], 256);
    validateContainerCpu([container('a', { cpu: 4096 })], undefined);
  });
  it('rejects container cpu adding up to more than the task cpu', () => {
    assertEcsError(
      () => validateContainerCpu([container('a', { cpu: 200 }), container('b', { cpu: 100 })], 256),
      'ClientException',
      /sum of all container 'cpu' values cannot be greater than the value of the task 'cpu' \(300 > 256\)/,
    );
  });
  it('rejects negative cpu', () => {
    assertEcsError(
      () => validateContainerCpu([container('a', { cpu: -1 })], undefined),
      'ClientException',
      /container 'a'\. 'cpu' must be 0 or more/,
    );
  });
});

describe('validatePlacementConstraints', () => {
  it('accepts up to 10 memberOf constraints', () => {
    validatePlacementConstraints(
      Array.from({ length: 10 }, () => ({ type: 'memberOf' as const, expression: 'attribute:a == b' })),
    );
  });
  it('rejects more than 10', () => {
    assertEcsError(
      () =>
        validatePlacementConstraints(
          Array.from({ length: 11 }, () => ({ type: 'memberOf' as const, expression: 'x exists' })),
        ),
      'ClientException',
      /at most 10 per task definition; got 11/,
    );
  });
  it('compiles each memberOf expression: a malformed one is refused with where and why', () => {
    assertEcsError(
      () =>
        validatePlacementConstraints([
          { type: 'memberOf', expression: 'attribute:stack == prod' },
          { type: 'memberOf', expression: 'attribute:stack == prod and (runningTasksCount > 2' },
        ]),
      'InvalidParameterException',
      /^placementConstraints\[1\]\.expression is not a valid cluster query expression: .*column \d+\.$/,
    );
    assertEcsError(
      () => validatePlacementConstraints([{ type: 'memberOf', expression: 'agentVersion > one' }]),
      'InvalidParameterException',
      /'one' is not a version number/,
    );
  });

  it('requires a memberOf type and an expression of at most 2000 characters', () => {
    assertEcsError(
      () => validatePlacementConstraints([{ expression: 'x' }]),
      'ClientException',
      /placementConstraints\[0\]\.type must be 'memberOf'/,
    );
    assertEcsError(
      () => validatePlacementConstraints([{ type: 'memberOf' }]),
      'ClientException',
      /placementConstraints\[0\]\.expression is required/,
    );
    assertEcsError(
      () => validatePlacementConstraints([{ type: 'memberOf', expression: 'x'.repeat(2001) }]),
      'ClientException',
      /at most 2000 characters/,
    );
  });
});

describe('validateEphemeralStorage', () => {
  it('accepts 21 to 200 GiB', () => {
    validateEphemeralStorage({ sizeInGiB: 21 });
    validateEphemeralStorage({ sizeInGiB: 200 });
  });
  it('rejects sizes outside 21-200', () => {
    assertEcsError(
      () => validateEphemeralStorage({ sizeInGiB: 20 }),
      'ClientException',
      /sizeInGiB must be between 21 and 200; got 20/,
    );
    assertEcsError(() => validateEphemeralStorage({ sizeInGiB: 201 }), 'ClientException', /got 201/);
  });
});

describe('validateProxyConfiguration', () => {
  it('requires the proxy container to be in the task', () => {
    validateProxyConfiguration({ containerName: 'envoy' }, [container('app'), container('envoy')]);
    assertEcsError(
      () => validateProxyConfiguration({ containerName: 'envoy' }, [container('app')]),
      'ClientException',
      /proxyConfiguration\.containerName 'envoy' is not a container/,
    );
  });
});
