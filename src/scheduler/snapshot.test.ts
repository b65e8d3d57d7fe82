import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerInstanceRecord } from '../domain/records.js';
import {
  buildPlacementSnapshot,
  groupOfTask,
  groupTasksByInstance,
  isCountedTask,
  placementInstanceFromRecord,
  type PlacedTaskFacts,
} from './snapshot.js';

const ARN = 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/';

function record(id: string, over: Partial<ContainerInstanceRecord> = {}): ContainerInstanceRecord {
  return {
    containerInstanceArn: `${ARN}${id}`,
    cluster: 'prod',
    tags: [],
    ec2InstanceId: `i-${id}`,
    status: 'ACTIVE',
    agentConnected: true,
    versionInfo: { agentVersion: '1.80.0' },
    registeredAt: 1_700_000_000.5,
    runningTasksCount: 2,
    pendingTasksCount: 1,
    attributes: [
      { name: 'ecs.availability-zone', value: 'us-east-1a' },
      { name: 'ecs.capability.task-eni' },
      { name: 'stack', value: 'prod' },
    ],
    remainingResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: 3072 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: 7000 },
      { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22', '8080'] },
      { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: ['53'] },
      { name: 'GPU', type: 'STRINGSET', stringSetValue: ['gpu0', 'gpu1'] },
    ],
    ...over,
  };
}

const task = (instanceId: string, over: Partial<PlacedTaskFacts> = {}): PlacedTaskFacts => ({
  containerInstanceArn: `${ARN}${instanceId}`,
  group: 'service:web',
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:3',
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
  ...over,
});

describe('placementInstanceFromRecord', () => {
  it('reads what placement and the query language need from the record', () => {
    const inst = placementInstanceFromRecord(record('a'), [
      task('a'),
      task('a'),
      task('a', { group: undefined }),
    ]);
    assert.equal(inst.id, 'a');
    assert.equal(inst.arn, `${ARN}a`);
    assert.equal(inst.status, 'ACTIVE');
    assert.equal(inst.agentConnected, true);
    assert.equal(inst.agentVersion, '1.80.0');
    assert.equal(inst.ec2InstanceId, 'i-a');
    assert.equal(inst.registeredAt, 1_700_000_000.5);
    assert.equal(inst.runningTasksCount, 2);
    assert.equal(inst.pendingTasksCount, 1);
    assert.deepEqual(
      [...inst.attributes],
      [
        ['ecs.availability-zone', 'us-east-1a'],
        ['ecs.capability.task-eni', undefined],
        ['stack', 'prod'],
      ],
    );
    assert.deepEqual(inst.remaining.cpu, 3072);
    assert.deepEqual(inst.remaining.memory, 7000);
    assert.deepEqual([...inst.remaining.ports], [22, 8080]);
    assert.deepEqual([...inst.remaining.portsUdp], [53]);
    assert.deepEqual(inst.gpuIds, ['gpu0', 'gpu1']);
    assert.deepEqual(
      [...inst.taskGroups],
      [
        ['service:web', 2],
        ['family:web', 1],
      ],
    );
  });

  it('counts neither stopped nor stopping tasks, nor tasks of another instance', () => {
    const inst = placementInstanceFromRecord(record('a'), [
      task('a', { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }),
      task('a', { lastStatus: 'RUNNING', desiredStatus: 'STOPPED' }),
      task('b'),
      task('a', { lastStatus: 'PENDING' }),
    ]);
    assert.deepEqual([...inst.taskGroups], [['service:web', 1]]);
  });

  it('defaults what a fresh record lacks', () => {
    const bare = placementInstanceFromRecord({ containerInstanceArn: `${ARN}z`, cluster: 'prod', tags: [] });
    assert.equal(bare.status, 'ACTIVE');
    assert.equal(bare.agentConnected, false);
    assert.equal(bare.runningTasksCount, 0);
    assert.deepEqual(bare.gpuIds, []);
    assert.equal(bare.remaining.memory, 0);
  });
});

describe('buildPlacementSnapshot', () => {
  it('sorts instances by id and gives each the tasks placed on it', () => {
    const snap = buildPlacementSnapshot(
      [record('b'), record('a')],
      [task('a'), task('b'), task('b'), { group: 'x', lastStatus: 'RUNNING' }],
    );
    assert.deepEqual(
      snap.map((i) => [i.id, i.taskGroups.get('service:web')]),
      [
        ['a', 1],
        ['b', 2],
      ],
    );
  });
});

describe('groupTasksByInstance', () => {
  it('groups by containerInstanceArn and leaves out tasks without one', () => {
    const grouped = groupTasksByInstance([task('a'), task('b'), task('a'), { group: 'x' }]);
    assert.deepEqual([...grouped.keys()], [`${ARN}a`, `${ARN}b`]);
    assert.equal(grouped.get(`${ARN}a`)!.length, 2);
  });
});

describe('groupOfTask / isCountedTask', () => {
  it('defaults the group to family:<family>, as RunTask does', () => {
    assert.equal(groupOfTask({ group: 'g' }), 'g');
    assert.equal(
      groupOfTask({ taskDefinitionArn: 'arn:aws:ecs:us-east-1:1:task-definition/batch:2' }),
      'family:batch',
    );
    assert.equal(groupOfTask({}), undefined);
    assert.equal(isCountedTask({ lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING' }), true);
    assert.equal(isCountedTask({ lastStatus: 'DELETED' }), false);
  });
});
