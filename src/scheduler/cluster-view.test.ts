import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerInstanceRecord } from '../domain/records.js';
import { ClusterView } from './cluster-view.js';
import type { PlacedTaskFacts } from './snapshot.js';

const ARN = 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/';
const key = (id: string) => `/123456789012/us-east-1/container-instances/prod/${id}`;
const taskKey = (id: string) => `/123456789012/us-east-1/tasks/prod/${id}`;

function record(
  id: string,
  memory = 4096,
  over: Partial<ContainerInstanceRecord> = {},
): ContainerInstanceRecord {
  return {
    containerInstanceArn: `${ARN}${id}`,
    cluster: 'prod',
    tags: [],
    status: 'ACTIVE',
    agentConnected: true,
    runningTasksCount: 0,
    pendingTasksCount: 0,
    attributes: [{ name: 'ecs.availability-zone', value: 'us-east-1a' }],
    remainingResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: memory },
    ],
    ...over,
  };
}

const task = (instanceId: string, over: Partial<PlacedTaskFacts> = {}): PlacedTaskFacts => ({
  containerInstanceArn: `${ARN}${instanceId}`,
  group: 'service:web',
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
  ...over,
});

function groupsOf(view: ClusterView, id: string): Record<string, number> {
  const e = view.snapshot().find((x) => x.instance.id === id)!;
  return Object.fromEntries(e.instance.taskGroups);
}

describe('ClusterView', () => {
  it('pairs each instance record and its version with the placement view built from it and its tasks', () => {
    const v = new ClusterView();
    v.applyInstance(key('b'), record('b'), 3);
    v.applyInstance(key('a'), record('a', 1000), 4);
    v.applyTask(taskKey('t1'), task('a'), 5);
    v.applyTask(taskKey('t2'), task('a', { group: 'batch' }), 6);
    v.applyTask(taskKey('t3'), task('b', { desiredStatus: 'STOPPED' }), 7);
    const snap = v.snapshot();
    assert.deepEqual(
      snap.map((e) => [e.instance.id, e.record.version, e.instance.remaining.memory]),
      [
        ['a', 4, 1000],
        ['b', 3, 4096],
      ],
    );
    assert.equal(snap[0]!.record.key, key('a'));
    assert.deepEqual(groupsOf(v, 'a'), { 'service:web': 1, batch: 1 });
    assert.deepEqual(groupsOf(v, 'b'), {}, 'a task being stopped does not count');
    assert.equal(v.instanceCount, 2);
    assert.equal(v.taskCount, 3);
  });

  it('keeps the newest version of every key, whatever order records come in (listing and feed overlap)', () => {
    const v = new ClusterView();
    v.applyInstance(key('a'), record('a', 500), 10);
    v.applyInstance(key('a'), record('a', 900), 8); // an older copy from a listing
    assert.equal(v.snapshot()[0]!.instance.remaining.memory, 500);
    v.applyTask(taskKey('t1'), task('a'), 12);
    v.applyTask(taskKey('t1'), task('a', { group: 'old' }), 11);
    assert.deepEqual(groupsOf(v, 'a'), { 'service:web': 1 });
    // A deletion leaves a tombstone: a late copy from before it stays out.
    v.applyTask(taskKey('t1'), undefined, 13);
    v.applyTask(taskKey('t1'), task('a'), 12);
    assert.deepEqual(groupsOf(v, 'a'), {});
    v.applyInstance(key('a'), undefined, 14);
    v.applyInstance(key('a'), record('a'), 10);
    assert.deepEqual(v.snapshot(), []);
    // Written again after its deletion: back.
    v.applyInstance(key('a'), record('a', 700), 15);
    assert.equal(v.snapshot()[0]!.instance.remaining.memory, 700);
  });

  it('keeps no tombstones once settled: deleted tasks leave nothing behind', () => {
    const v = new ClusterView();
    v.applyInstance(key('a'), record('a'), 1);
    v.applyTask(taskKey('t1'), task('a'), 2);
    v.applyTask(taskKey('t1'), undefined, 3);
    assert.equal(v.tombstoneCount, 1, 'kept while the listing may still bring older copies');
    v.settle();
    assert.equal(v.tombstoneCount, 0);
    for (let i = 0; i < 100; i++) {
      v.applyTask(taskKey(`x${i}`), task('a'), 10 + 2 * i);
      v.applyTask(taskKey(`x${i}`), undefined, 11 + 2 * i);
    }
    assert.equal(v.tombstoneCount, 0);
    assert.equal(v.taskCount, 0);
    assert.deepEqual(groupsOf(v, 'a'), {});
    // In-order changes still apply as before.
    v.applyTask(taskKey('t2'), task('a'), 300);
    assert.deepEqual(groupsOf(v, 'a'), { 'service:web': 1 });
  });

  it('follows a task through its life: placed, moved to STOPPED, and its group leaves the instance', () => {
    const v = new ClusterView();
    v.applyInstance(key('a'), record('a'), 1);
    v.applyTask(taskKey('t1'), task('a', { lastStatus: 'PROVISIONING' }), 2);
    v.applyTask(taskKey('t2'), task('a'), 3);
    assert.deepEqual(groupsOf(v, 'a'), { 'service:web': 2 });
    v.applyTask(taskKey('t1'), task('a', { lastStatus: 'RUNNING' }), 4);
    assert.deepEqual(groupsOf(v, 'a'), { 'service:web': 2 });
    v.applyTask(taskKey('t1'), task('a', { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }), 5);
    assert.deepEqual(groupsOf(v, 'a'), { 'service:web': 1 });
    // A task without a group counts under its family, as ECS names it.
    v.applyTask(
      taskKey('t3'),
      task('a', {
        group: undefined,
        taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/api:2',
      }),
      6,
    );
    assert.deepEqual(groupsOf(v, 'a'), { 'service:web': 1, 'family:api': 1 });
  });

  it('knows the tasks of each group in any status, in key order, through stops, deletes and late copies', () => {
    const v = new ClusterView({ keepRecordsOf: (g) => g.startsWith('service:') });
    v.applyTask(taskKey('t3'), task('a'), 5);
    v.applyTask(taskKey('t1'), task('a'), 6);
    v.applyTask(taskKey('t2'), task('b', { group: 'service:api' }), 7);
    // No instance yet (a PENDING Fargate-style task) and stopped: still in its group.
    v.applyTask(taskKey('t4'), task('a', { containerInstanceArn: undefined, lastStatus: 'STOPPED' }), 8);
    assert.deepEqual(v.taskKeysOfGroup('service:web'), [taskKey('t1'), taskKey('t3'), taskKey('t4')]);
    assert.deepEqual(v.taskKeysOfGroup('service:api'), [taskKey('t2')]);
    assert.deepEqual(v.taskKeysOfGroup('service:none'), []);

    v.applyTask(taskKey('t1'), task('a', { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }), 9);
    v.applyTask(taskKey('t3'), undefined, 10);
    // The listing's older copy of the deleted task arrives after the delete: it stays gone.
    v.applyTask(taskKey('t3'), task('a'), 5);
    assert.deepEqual(v.taskKeysOfGroup('service:web'), [taskKey('t1'), taskKey('t4')]);
    v.applyTask(taskKey('t2'), undefined, 11);
    assert.deepEqual(v.taskKeysOfGroup('service:api'), []);
  });

  it('keeps the records of the groups it is told to, newest version first come or last', () => {
    const v = new ClusterView<PlacedTaskFacts>({ keepRecordsOf: (g) => g.startsWith('service:') });
    const running = task('a');
    v.applyTask(taskKey('t2'), running, 5);
    v.applyTask(taskKey('t1'), task('b'), 6);
    v.applyTask(taskKey('t9'), task('a', { group: 'family:batch' }), 7);
    const stopped = task('a', { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' });
    v.applyTask(taskKey('t2'), stopped, 8);
    // A late, older copy (a listing overlapping the feed) does not replace the newer record.
    v.applyTask(taskKey('t2'), running, 5);
    const web = v.recordsOfGroup('service:web');
    assert.equal(web.length, 2);
    assert.equal(web[1], stopped, 'key order: t1, then t2 as last applied');
    assert.deepEqual(v.recordsOfGroup('service:none'), []);
    assert.throws(() => v.recordsOfGroup('family:batch'), /keeps no task records of group family:batch/);

    // A task that moves to another group leaves the first one's records.
    v.applyTask(taskKey('t1'), task('b', { group: 'service:api' }), 9);
    assert.deepEqual(v.recordsOfGroup('service:web'), [stopped]);
    assert.equal(v.recordsOfGroup('service:api').length, 1);
    v.applyTask(taskKey('t2'), undefined, 10);
    assert.deepEqual(v.recordsOfGroup('service:web'), []);
  });

  it('hands out snapshots that never change; the next one shares what did not change', () => {
    const v = new ClusterView();
    for (const id of ['a', 'b', 'c']) v.applyInstance(key(id), record(id), 1);
    const first = v.snapshot();
    assert.equal(v.snapshot(), first, 'nothing changed: the same array');
    v.applyInstance(key('b'), record('b', 100), 2);
    v.applyTask(taskKey('t1'), task('c'), 3);
    const second = v.snapshot();
    assert.notEqual(second, first);
    assert.equal(first[1]!.instance.remaining.memory, 4096, 'the old snapshot kept its entry');
    assert.equal(first[2]!.instance.taskGroups.size, 0);
    assert.equal(second[0], first[0], 'an unchanged instance keeps its entry');
    assert.equal(second[1]!.instance.remaining.memory, 100);
    assert.equal(second[1]!.record.version, 2);
    assert.deepEqual(Object.fromEntries(second[2]!.instance.taskGroups), { 'service:web': 1 });
    v.applyInstance(key('0'), record('0'), 4);
    assert.deepEqual(
      v.snapshot().map((e) => e.instance.id),
      ['0', 'a', 'b', 'c'],
    );
  });
});
