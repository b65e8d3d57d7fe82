import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RegisterTaskDefinitionRequest } from '../../generated/ecs/types.js';
import { buildTaskDefinition, withRevision } from '../task-definition/build.js';
import { container } from '../task-definition/test-support.js';
import { MANAGED_TAG_CLUSTER, buildTaskRecord, computeTaskTags, type TaskBuildInput } from './build-task.js';
import { resolveOverrides } from './overrides.js';
import { computeTaskReservation } from './resources.js';
import { toTaskView } from './view.js';

const scope = { account: '123456789012', region: 'us-east-1' };
const ARN = 'arn:aws:ecs:us-east-1:123456789012';
const NOW = Date.UTC(2026, 0, 1);

function definition(req: Partial<RegisterTaskDefinitionRequest> = {}) {
  const draft = buildTaskDefinition(
    {
      family: 'web',
      containerDefinitions: [container('app', { cpu: 10, memory: 128, memoryReservation: 64 })],
      ...req,
    },
    { now: NOW, principalArn: 'arn:aws:iam::123456789012:root' },
  );
  return withRevision(draft, scope, 3);
}

function input(over: Partial<TaskBuildInput> = {}): TaskBuildInput {
  const td = over.taskDefinition ?? definition();
  const launchType = over.launchType ?? 'EC2';
  const resolved = over.resolved ?? resolveOverrides(td, undefined, launchType);
  return {
    scope,
    cluster: 'prod',
    taskId: 'aaaabbbbccccddddeeeeffff00001111',
    containerIds: (td.containerDefinitions ?? []).map((_, i) => `c0000000-0000-4000-8000-00000000000${i}`),
    attachmentId: 'a0000000-0000-4000-8000-000000000001',
    taskDefinition: td,
    resolved,
    launchType,
    tags: [],
    host: {
      kind: 'instance',
      containerInstanceArn: `${ARN}:container-instance/prod/ci1`,
      availabilityZone: 'us-east-1a',
    },
    reserved: computeTaskReservation({ containers: resolved.containers, launchType }),
    now: NOW,
    ...over,
  };
}

describe('buildTaskRecord', () => {
  it('builds a PROVISIONING EC2 task as ECS shows it', () => {
    const t = buildTaskRecord(input({ startedBy: 'me' }));
    const taskArn = `${ARN}:task/prod/aaaabbbbccccddddeeeeffff00001111`;
    assert.equal(t.taskArn, taskArn);
    assert.equal(t.clusterArn, `${ARN}:cluster/prod`);
    assert.equal(t.taskDefinitionArn, `${ARN}:task-definition/web:3`);
    assert.equal(t.containerInstanceArn, `${ARN}:container-instance/prod/ci1`);
    assert.equal(t.availabilityZone, 'us-east-1a');
    assert.equal(t.lastStatus, 'PROVISIONING');
    assert.equal(t.desiredStatus, 'RUNNING');
    assert.equal(t.version, 1);
    assert.equal(t.createdAt, NOW / 1000);
    assert.equal(t.group, 'family:web');
    assert.equal(t.startedBy, 'me');
    assert.equal(t.launchType, 'EC2');
    assert.equal(t.enableExecuteCommand, false);
    assert.equal(t.healthStatus, 'UNKNOWN');
    assert.deepEqual(t.attachments, []);
    assert.equal(t.platformVersion, undefined);
    assert.equal(t.cpu, undefined);
    assert.deepEqual(t.overrides, {
      containerOverrides: [{ name: 'app' }],
      inferenceAcceleratorOverrides: [],
    });
    assert.deepEqual(t.containers, [
      {
        containerArn: `${ARN}:container/prod/aaaabbbbccccddddeeeeffff00001111/c0000000-0000-4000-8000-000000000000`,
        taskArn,
        name: 'app',
        image: 'busybox',
        lastStatus: 'PENDING',
        networkBindings: [],
        networkInterfaces: [],
        healthStatus: 'UNKNOWN',
        cpu: '10',
        memory: '128',
        memoryReservation: '64',
      },
    ]);
    assert.deepEqual(t.berth, {
      reserved: { cpu: 10, memory: 64, ports: [], portsUdp: [] },
      released: false,
    });
  });

  it('gives an awsvpc task a PRECREATED ENI attachment in its first subnet', () => {
    const td = definition({ networkMode: 'awsvpc' });
    const awsvpcConfiguration = {
      subnets: ['subnet-1', 'subnet-2'],
      securityGroups: [],
      assignPublicIp: 'DISABLED' as const,
    };
    const t = buildTaskRecord(input({ taskDefinition: td, awsvpcConfiguration, group: 'batch' }));
    assert.deepEqual(t.attachments, [
      {
        id: 'a0000000-0000-4000-8000-000000000001',
        type: 'ElasticNetworkInterface',
        status: 'PRECREATED',
        details: [{ name: 'subnetId', value: 'subnet-1' }],
      },
    ]);
    assert.deepEqual(t.berth.awsvpcConfiguration, awsvpcConfiguration);
    assert.equal(t.group, 'batch');
  });

  it('builds a FARGATE task on a managed host with the platform and task size', () => {
    const td = definition({
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [container('app', { memory: 100, cpu: 99 })],
    });
    const resolved = resolveOverrides(td, { memory: '1024' }, 'FARGATE');
    const t = buildTaskRecord(
      input({
        taskDefinition: td,
        resolved,
        launchType: 'FARGATE',
        capacityProviderName: 'FARGATE_SPOT',
        host: { kind: 'managed', managedHostId: 'host-1', availabilityZone: 'local-1a' },
        awsvpcConfiguration: { subnets: ['s'] },
        reserved: computeTaskReservation({
          containers: resolved.containers,
          cpu: '256',
          memory: '1024',
          launchType: 'FARGATE',
        }),
      }),
    );
    assert.equal(t.containerInstanceArn, undefined);
    assert.equal(t.berth.managedHostId, 'host-1');
    assert.equal(t.availabilityZone, 'local-1a');
    assert.equal(t.platformVersion, '1.4.0');
    assert.equal(t.platformFamily, 'Linux');
    assert.equal(t.capacityProviderName, 'FARGATE_SPOT');
    assert.equal(t.cpu, '256');
    assert.equal(t.memory, '1024');
    assert.deepEqual(t.ephemeralStorage, { sizeInGiB: 20 });
    assert.deepEqual(t.berth.reserved, { cpu: 256, memory: 1024, ports: [], portsUdp: [] });
  });

  it('refuses inconsistent input', () => {
    assert.throws(() => buildTaskRecord(input({ containerIds: [] })), /one id per container/);
    assert.throws(
      () => buildTaskRecord(input({ awsvpcConfiguration: { subnets: ['s'] }, attachmentId: undefined })),
      /needs an attachmentId/,
    );
  });
});

describe('computeTaskTags', () => {
  const definitionTags = [
    { key: 'team', value: 'a' },
    { key: 'cost', value: '1' },
  ];
  it('copies the definition tags only with propagateTags TASK_DEFINITION, request tags winning', () => {
    assert.deepEqual(
      computeTaskTags({
        requested: [{ key: 'team', value: 'b' }],
        propagateTags: 'TASK_DEFINITION',
        definitionTags,
        cluster: 'c',
      }),
      [
        { key: 'team', value: 'b' },
        { key: 'cost', value: '1' },
      ],
    );
    assert.deepEqual(
      computeTaskTags({ requested: [], propagateTags: 'NONE', definitionTags, cluster: 'c' }),
      [],
    );
  });

  it('adds the ECS-managed cluster tag when enabled', () => {
    assert.deepEqual(
      computeTaskTags({ requested: [], definitionTags, enableECSManagedTags: true, cluster: 'prod' }),
      [{ key: MANAGED_TAG_CLUSTER, value: 'prod' }],
    );
  });
});

describe('toTaskView', () => {
  it('strips berth and shows tags only when asked', () => {
    const t = buildTaskRecord(input({ tags: [{ key: 'k', value: 'v' }] }));
    const view = toTaskView(t);
    assert.equal('berth' in view, false);
    assert.equal('tags' in view, false);
    assert.deepEqual(toTaskView(t, true).tags, [{ key: 'k', value: 'v' }]);
  });
});
