import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerCondition } from '../../generated/ecs/types.js';
import { findCycle, validateDependsOn } from './depends-on.js';
import { assertEcsError, container } from './test-support.js';

const hc = { command: ['CMD', 'true'] };

describe('validateDependsOn', () => {
  it('accepts START on any container, COMPLETE/SUCCESS on non-essential ones, HEALTHY on checked ones', () => {
    validateDependsOn([
      container('init', { essential: false }),
      container('db', { healthCheck: hc }),
      container('app', {
        dependsOn: [
          { containerName: 'init', condition: 'SUCCESS' },
          { containerName: 'init', condition: 'COMPLETE' },
          { containerName: 'db', condition: 'HEALTHY' },
          { containerName: 'db', condition: 'START' },
        ],
      }),
    ]);
  });
  it('rejects a dependency on an unknown container', () => {
    assertEcsError(
      () =>
        validateDependsOn([container('app', { dependsOn: [{ containerName: 'db', condition: 'START' }] })]),
      'ClientException',
      /container 'app' on 'db': no container named 'db'/,
    );
  });
  it('rejects a dependency on itself', () => {
    assertEcsError(
      () =>
        validateDependsOn([container('app', { dependsOn: [{ containerName: 'app', condition: 'START' }] })]),
      'ClientException',
      /cannot depend on itself/,
    );
  });
  for (const condition of ['COMPLETE', 'SUCCESS'] as const) {
    it(`rejects ${condition} on an essential container, explicit or by default`, () => {
      for (const target of [container('db'), container('db', { essential: true })]) {
        assertEcsError(
          () =>
            validateDependsOn([
              target,
              container('app', { dependsOn: [{ containerName: 'db', condition }] }),
            ]),
          'ClientException',
          new RegExp(`condition ${condition} is not allowed on an essential container`),
        );
      }
    });
  }
  it('rejects HEALTHY on a container without a health check', () => {
    assertEcsError(
      () =>
        validateDependsOn([
          container('db'),
          container('app', { dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] }),
        ]),
      'ClientException',
      /HEALTHY requires 'db' to have a healthCheck/,
    );
  });
  it('rejects an unknown condition', () => {
    assertEcsError(
      () =>
        validateDependsOn([
          container('db'),
          container('app', {
            dependsOn: [{ containerName: 'db', condition: 'READY' as ContainerCondition }],
          }),
        ]),
      'ClientException',
      /condition 'READY' must be one of START, COMPLETE, SUCCESS, HEALTHY/,
    );
  });
  it('rejects a dependency cycle, naming it', () => {
    assertEcsError(
      () =>
        validateDependsOn([
          container('a', { dependsOn: [{ containerName: 'b', condition: 'START' }] }),
          container('b', { dependsOn: [{ containerName: 'c', condition: 'START' }] }),
          container('c', { dependsOn: [{ containerName: 'a', condition: 'START' }] }),
        ]),
      'ClientException',
      /dependency cycle: a -> b -> c -> a/,
    );
  });
});

describe('findCycle', () => {
  it('finds none in a diamond', () => {
    const dep = (n: string) => ({ containerName: n, condition: 'START' as const });
    assert.equal(
      findCycle([
        container('a', { dependsOn: [dep('b'), dep('c')] }),
        container('b', { dependsOn: [dep('d')] }),
        container('c', { dependsOn: [dep('d')] }),
        container('d'),
      ]),
      undefined,
    );
  });
  it('finds a cycle reached from outside it', () => {
    const dep = (n: string) => ({ containerName: n, condition: 'START' as const });
    assert.deepEqual(
      findCycle([
        container('x', { dependsOn: [dep('y')] }),
        container('y', { dependsOn: [dep('z')] }),
        container('z', { dependsOn: [dep('y')] }),
      ]),
      ['y', 'z', 'y'],
    );
  });
});
