import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeRequiresAttributes } from './requires-attributes.js';
import { container } from './test-support.js';

const names = (...args: Parameters<typeof computeRequiresAttributes>) =>
  computeRequiresAttributes(...args).map((a) => a.name);

describe('computeRequiresAttributes', () => {
  it('requires nothing for a plain container', () => {
    assert.deepEqual(computeRequiresAttributes({ containerDefinitions: [container('a')] }), []);
  });
  it('requires task-eni for awsvpc and task-iam-role for a task role', () => {
    assert.deepEqual(
      names({
        networkMode: 'awsvpc',
        taskRoleArn: 'arn:aws:iam::1:role/r',
        containerDefinitions: [container('a')],
      }),
      ['ecs.capability.task-eni', 'com.amazonaws.ecs.capability.task-iam-role'],
    );
    assert.deepEqual(names({ networkMode: 'bridge', containerDefinitions: [container('a')] }), []);
  });
  it('requires health-check and ordering capabilities', () => {
    assert.deepEqual(
      names({
        containerDefinitions: [
          container('db', { healthCheck: { command: ['CMD', 'true'] } }),
          container('app', { dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] }),
        ],
      }),
      ['ecs.capability.container-health-check', 'ecs.capability.container-ordering'],
    );
  });
  it('requires the log driver and Docker API 1.18 for logConfiguration, once each', () => {
    const log = { logConfiguration: { logDriver: 'json-file' as const } };
    assert.deepEqual(
      names({
        containerDefinitions: [container('a', log), container('b', { ...log, dockerLabels: { x: 'y' } })],
      }),
      [
        'com.amazonaws.ecs.capability.logging-driver.json-file',
        'com.amazonaws.ecs.capability.docker-remote-api.1.18',
      ],
    );
  });
  it('requires execution-role-awslogs only with an execution role and awslogs', () => {
    const c = container('a', {
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } },
    });
    assert.ok(
      names({ executionRoleArn: 'arn:aws:iam::1:role/x', containerDefinitions: [c] }).includes(
        'ecs.capability.execution-role-awslogs',
      ),
    );
    assert.ok(!names({ containerDefinitions: [c] }).includes('ecs.capability.execution-role-awslogs'));
  });
  it('maps secrets by their source service', () => {
    assert.deepEqual(
      names({
        containerDefinitions: [
          container('a', {
            secrets: [
              { name: 'A', valueFrom: 'arn:aws:secretsmanager:us-east-1:1:secret:s' },
              { name: 'B', valueFrom: '/app/param' },
            ],
          }),
        ],
      }),
      [
        'ecs.capability.secrets.asm.environment-variables',
        'ecs.capability.secrets.ssm.environment-variables',
      ],
    );
  });
  it('covers ulimits, init process, private registries, env files and firelens', () => {
    assert.deepEqual(
      names({
        containerDefinitions: [
          container('a', {
            ulimits: [{ name: 'nofile', softLimit: 1, hardLimit: 2 }],
            linuxParameters: { initProcessEnabled: true },
            repositoryCredentials: { credentialsParameter: 'arn:aws:secretsmanager:us-east-1:1:secret:r' },
            environmentFiles: [{ type: 's3', value: 'arn:aws:s3:::b/k.env' }],
            firelensConfiguration: { type: 'fluentbit' },
          }),
        ],
      }),
      [
        'com.amazonaws.ecs.capability.docker-remote-api.1.18',
        'com.amazonaws.ecs.capability.docker-remote-api.1.25',
        'com.amazonaws.ecs.capability.private-registry-authentication.secretsmanager',
        'ecs.capability.env-files.s3',
        'ecs.capability.firelens.fluentbit',
      ],
    );
  });
  it('answers attributes as bare names, like ECS', () => {
    assert.deepEqual(
      computeRequiresAttributes({ networkMode: 'awsvpc', containerDefinitions: [container('a')] }),
      [{ name: 'ecs.capability.task-eni' }],
    );
  });
});
