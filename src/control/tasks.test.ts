import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { TaskStateReport } from '../domain/agent-protocol.js';
import { ManualClock } from '../domain/clock.js';
import type {
  ContainerInstanceRecord,
  ManagedHostRecord,
  TaskDefinitionRecord,
  TaskRecord,
} from '../domain/records.js';
import { buildTaskRecord } from '../domain/task/build-task.js';
import { resolveOverrides } from '../domain/task/overrides.js';
import { computeTaskReservation, instanceRemaining } from '../domain/task/resources.js';
import { buildTaskDefinition, withRevision } from '../domain/task-definition/build.js';
import { container } from '../domain/task-definition/test-support.js';
import type { LaunchType, RegisterTaskDefinitionRequest } from '../generated/ecs/types.js';
import { keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory-store.js';
import type { Store } from '../store/store.js';
import {
  applyTaskReport,
  applyTaskReports,
  buildAgentTask,
  listActiveTasksOnInstance,
  listActiveTasksOnManagedHost,
  placeTasks,
  stopTask,
  type PlacementTarget,
  type TaskDeps,
} from './tasks.js';

const scope = { account: '123456789012', region: 'us-east-1' };
const ARN = 'arn:aws:ecs:us-east-1:123456789012';
const T0 = Date.UTC(2026, 0, 1);

function deps(store: Store = new MemoryStore()): TaskDeps & { clock: ManualClock } {
  return { store, clock: new ManualClock(T0), log: pino({ level: 'silent' }) };
}

async function putInstance(
  store: Store,
  id: string,
  opts: { cpu?: number; memory?: number; agentConnected?: boolean; status?: string; az?: string } = {},
): Promise<string> {
  const resources = [
    { name: 'CPU', type: 'INTEGER', integerValue: opts.cpu ?? 2048 },
    { name: 'MEMORY', type: 'INTEGER', integerValue: opts.memory ?? 2048 },
    { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22'] },
    { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
  ];
  const arn = `${ARN}:container-instance/prod/${id}`;
  const value: ContainerInstanceRecord = {
    containerInstanceArn: arn,
    cluster: 'prod',
    status: opts.status ?? 'ACTIVE',
    agentConnected: opts.agentConnected ?? true,
    registeredResources: resources,
    remainingResources: resources,
    runningTasksCount: 0,
    pendingTasksCount: 0,
    version: 1,
    attributes: [{ name: 'ecs.availability-zone', value: opts.az ?? 'us-east-1a' }],
    tags: [],
  };
  await store.txn([], [{ kind: 'put', key: keys.containerInstance(scope, 'prod', id), value }]);
  return arn;
}

async function putManagedHost(store: Store, hostId: string, cpu = 4096, memory = 8192): Promise<void> {
  const value: ManagedHostRecord = {
    hostId,
    availabilityZone: 'local-1a',
    agentConnected: true,
    registered: { cpu, memory },
    remaining: { cpu, memory },
    runningTasksCount: 0,
    pendingTasksCount: 0,
    updatedAt: T0,
  };
  await store.txn([], [{ kind: 'put', key: keys.managedHost(hostId), value }]);
}

async function putDefinition(
  store: Store,
  req: Partial<RegisterTaskDefinitionRequest> = {},
): Promise<TaskDefinitionRecord> {
  const td = withRevision(
    buildTaskDefinition(
      { family: 'web', containerDefinitions: [container('app', { memory: 256 })], ...req },
      { now: T0, principalArn: 'p' },
    ),
    scope,
    1,
  );
  await store.txn([], [{ kind: 'put', key: keys.taskDefinition(scope, 'web', 1), value: td }]);
  return td;
}

let seq = 0;
/** Places `count` tasks of `td` the way RunTask does, with fresh ids. */
async function place(
  d: TaskDeps,
  td: TaskDefinitionRecord,
  count = 1,
  launchType: LaunchType = 'EC2',
  target?: PlacementTarget,
) {
  const resolved = resolveOverrides(td, undefined, launchType);
  const reservation = computeTaskReservation({
    containers: resolved.containers,
    ...(resolved.cpu !== undefined ? { cpu: resolved.cpu } : {}),
    ...(resolved.memory !== undefined ? { memory: resolved.memory } : {}),
    ...(td.networkMode !== undefined ? { networkMode: td.networkMode } : {}),
    launchType,
  });
  const ids = Array.from({ length: count }, () => `task${String(++seq).padStart(6, '0')}`);
  return placeTasks(d, {
    target:
      target ??
      (launchType === 'FARGATE' ? { kind: 'managed' } : { kind: 'instances', scope, cluster: 'prod' }),
    count,
    reservation,
    taskKey: (i) => keys.task(scope, 'prod', ids[i]!),
    buildTask: (i, host) => {
      const { id: _id, ...taskHost } = host;
      return buildTaskRecord({
        scope,
        cluster: 'prod',
        taskId: ids[i]!,
        containerIds: (td.containerDefinitions ?? []).map((_, n) => `${ids[i]}-c${n}`),
        attachmentId: `${ids[i]}-eni`,
        taskDefinition: td,
        resolved,
        launchType,
        tags: [],
        host: taskHost,
        ...(td.networkMode === 'awsvpc' ? { awsvpcConfiguration: { subnets: ['subnet-1'] } } : {}),
        reserved: reservation,
        now: d.clock.now(),
      });
    },
  });
}

async function instance(store: Store, id: string): Promise<ContainerInstanceRecord> {
  return (await store.get<ContainerInstanceRecord>(keys.containerInstance(scope, 'prod', id)))!.value;
}

async function task(store: Store, arn: string): Promise<TaskRecord> {
  const id = arn.slice(arn.lastIndexOf('/') + 1);
  return (await store.get<TaskRecord>(keys.task(scope, 'prod', id)))!.value;
}

const report = (
  taskArn: string,
  status: TaskStateReport['status'],
  extra: Partial<TaskStateReport> = {},
): TaskStateReport => ({
  taskArn,
  status,
  containers: [],
  ...extra,
});

describe('placeTasks', () => {
  it('reserves on the host and creates the task in one write', async () => {
    const d = deps();
    const arn = await putInstance(d.store, 'ci1');
    const td = await putDefinition(d.store, {
      containerDefinitions: [
        container('app', { memory: 256, cpu: 100, portMappings: [{ containerPort: 80, hostPort: 8080 }] }),
      ],
    });
    const before = await d.store.revision();
    const result = await place(d, td);
    assert.equal(await d.store.revision(), before + 1, 'host and task are written in one transaction');
    assert.equal(result.tasks.length, 1);
    const t = result.tasks[0]!;
    assert.equal(t.containerInstanceArn, arn);
    assert.equal(t.availabilityZone, 'us-east-1a');
    const ci = await instance(d.store, 'ci1');
    const left = instanceRemaining(ci.remainingResources);
    assert.equal(left.cpu, 2048 - 100);
    assert.equal(left.memory, 2048 - 256);
    assert.deepEqual([...left.ports], [22, 8080]);
    assert.equal(ci.pendingTasksCount, 1);
    assert.equal(ci.runningTasksCount, 0);
    assert.equal(ci.version, 2);
    assert.deepEqual((await task(d.store, t.taskArn)).berth.reserved, {
      cpu: 100,
      memory: 256,
      ports: [8080],
      portsUdp: [],
    });
  });

  it('spreads one call over the hosts and stops at the first task that fits nowhere', async () => {
    const d = deps();
    await putInstance(d.store, 'ci1', { memory: 600 });
    await putInstance(d.store, 'ci2', { memory: 300 });
    const td = await putDefinition(d.store);
    const result = await place(d, td, 5);
    assert.deepEqual(
      result.tasks.map((t) => t.containerInstanceArn!.split('/').pop()),
      ['ci1', 'ci2', 'ci1'],
    );
    assert.deepEqual(
      result.rejections.map((r) => [r.host.id, r.reason]),
      [
        ['ci1', 'RESOURCE:MEMORY'],
        ['ci2', 'RESOURCE:MEMORY'],
      ],
    );
    assert.equal((await d.store.list(keys.tasksOfCluster(scope, 'prod'))).length, 3);
  });

  it('places on ACTIVE instances only unless instances are named; says when there is no host', async () => {
    const d = deps();
    await putInstance(d.store, 'ci1', { status: 'DRAINING' });
    const td = await putDefinition(d.store);
    const none = await place(d, td);
    assert.equal(none.noHosts, true);
    assert.equal(none.tasks.length, 0);
    const named = await place(d, td, 1, 'EC2', {
      kind: 'instances',
      scope,
      cluster: 'prod',
      instanceIds: ['ci1'],
    });
    assert.deepEqual(
      named.rejections.map((r) => r.reason),
      ['DRAINING'],
    );
    const missing = await place(d, td, 1, 'EC2', {
      kind: 'instances',
      scope,
      cluster: 'prod',
      instanceIds: ['nope'],
    });
    assert.equal(missing.noHosts, true);
  });

  it('retries a lost race on fresh state', async () => {
    const inner = new MemoryStore();
    let raced = false;
    // A store whose first transaction is preceded by a competing write to the same host: the
    // placement's compare-and-set fails and it must re-read and plan again.
    const racing: Store = {
      backend: inner.backend,
      get: (key) => inner.get(key),
      getMany: (ks) => inner.getMany(ks),
      list: (prefix, options) => inner.list(prefix, options),
      count: (prefix) => inner.count(prefix),
      watch: (prefix, options, onChange, onError) => inner.watch(prefix, options, onChange, onError),
      revision: () => inner.revision(),
      close: () => inner.close(),
      txn: async (compares, ops) => {
        if (!raced && ops.some((op) => op.key.includes('/tasks/'))) {
          raced = true;
          const key = keys.containerInstance(scope, 'prod', 'ci1');
          const cur = (await inner.get<ContainerInstanceRecord>(key))!;
          const squeezed = {
            ...cur.value,
            remainingResources: cur.value.remainingResources!.map((r) =>
              r.name === 'MEMORY' ? { ...r, integerValue: 300 } : r,
            ),
          };
          await inner.txn([], [{ kind: 'put', key, value: squeezed }]);
        }
        return inner.txn(compares, ops);
      },
    };
    const d = deps(racing);
    await putInstance(inner, 'ci1', { memory: 1000 });
    await putInstance(inner, 'ci2', { memory: 1000 });
    const td = await putDefinition(inner);
    const result = await place(d, td, 2);
    assert.equal(raced, true);
    // ci1 was squeezed to 300 MiB by the competing write: the retry plans on that (the first
    // task still fits there, leaving 44 MiB) and the second task goes to ci2.
    assert.deepEqual(
      result.tasks.map((t) => t.containerInstanceArn!.split('/').pop()),
      ['ci1', 'ci2'],
    );
    assert.equal(instanceRemaining((await instance(inner, 'ci1')).remainingResources).memory, 300 - 256);
  });

  it('never overcommits an instance under 20 concurrent placements from two control-plane replicas', async () => {
    const inner = new MemoryStore();
    let lostRaces = 0;
    // Two replicas on one store: each has its own placement views and queue (one process
    // queues its own placements per cluster), so only the compare-and-set keeps them apart.
    const replica = (): Store => ({
      backend: inner.backend,
      get: (key) => inner.get(key),
      getMany: (ks) => inner.getMany(ks),
      list: (prefix, options) => inner.list(prefix, options),
      count: (prefix) => inner.count(prefix),
      watch: (prefix, options, onChange, onError) => inner.watch(prefix, options, onChange, onError),
      revision: () => inner.revision(),
      close: () => inner.close(),
      txn: async (compares, ops) => {
        // A commit takes a moment (as a disk sync does), so concurrent plans overlap.
        await new Promise((resolve) => setImmediate(resolve));
        const r = await inner.txn(compares, ops);
        if (!r.succeeded) lostRaces++;
        return r;
      },
    });
    const replicas = [deps(replica()), deps(replica())];
    // Room for exactly 7 tasks of 256 MiB (and a bit more).
    await putInstance(inner, 'ci1', { memory: 7 * 256 + 100 });
    const td = await putDefinition(inner);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => place(replicas[i % 2]!, td)));
    const placed = results.flatMap((r) => r.tasks);
    assert.equal(placed.length, 7);
    for (const r of results.filter((x) => x.tasks.length === 0)) {
      assert.deepEqual(
        r.rejections.map((x) => x.reason),
        ['RESOURCE:MEMORY'],
      );
    }
    const ci = await instance(inner, 'ci1');
    assert.equal(instanceRemaining(ci.remainingResources).memory, 100);
    assert.equal(ci.pendingTasksCount, 7);
    assert.equal((await inner.list(keys.tasksOfCluster(scope, 'prod'))).length, 7);
    assert.ok(lostRaces > 0, 'the placements really raced');
  });

  it('places FARGATE tasks on managed hosts, cpu and memory only', async () => {
    const d = deps();
    await putManagedHost(d.store, 'host-1', 512, 1024);
    const td = await putDefinition(d.store, {
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [container('app', { memory: 100, portMappings: [{ containerPort: 80 }] })],
    });
    const result = await place(d, td, 3, 'FARGATE');
    assert.equal(result.tasks.length, 2);
    assert.equal(result.tasks[0]!.berth.managedHostId, 'host-1');
    assert.equal(result.tasks[0]!.containerInstanceArn, undefined);
    assert.equal(result.tasks[0]!.availabilityZone, 'local-1a');
    assert.deepEqual(
      result.rejections.map((r) => [r.host.kind, r.reason]),
      [['managed', 'RESOURCE:CPU']],
    );
    const host = (await d.store.get<ManagedHostRecord>(keys.managedHost('host-1')))!.value;
    assert.deepEqual(host.remaining, { cpu: 0, memory: 0 });
    assert.equal(host.pendingTasksCount, 2);
  });
});

describe('placeTasks after a lost race', () => {
  /**
   * A store that writes `race` to ci1 just before the first transaction creating a task, with its
   * change feed held back until release(): a plan that needs the feed to catch up cannot finish
   * before release().
   */
  function racingStore(race: (cur: ContainerInstanceRecord) => ContainerInstanceRecord) {
    const inner = new MemoryStore();
    const held: (() => void)[] = [];
    let hold = false;
    let raced = false;
    const store: Store = {
      backend: inner.backend,
      get: (k) => inner.get(k),
      getMany: (ks) => inner.getMany(ks),
      list: (p, o) => inner.list(p, o),
      count: (p) => inner.count(p),
      revision: () => inner.revision(),
      close: () => inner.close(),
      watch: (prefix, options, onChange, onError) =>
        inner.watch(prefix, options, (c) => (hold ? held.push(() => onChange(c)) : onChange(c)), onError),
      txn: async (compares, ops) => {
        if (!raced && ops.some((op) => op.key.includes('/tasks/'))) {
          raced = true;
          hold = true;
          const key = keys.containerInstance(scope, 'prod', 'ci1');
          const cur = (await inner.get<ContainerInstanceRecord>(key))!;
          await inner.txn([], [{ kind: 'put', key, value: race(cur.value) }]);
        }
        return inner.txn(compares, ops);
      },
    };
    const release = () => {
      hold = false;
      for (const f of held.splice(0)) f();
    };
    return { inner, store, release };
  }

  it('re-applies the plan to the fresh record when only task counts changed (an agent report)', async () => {
    const { inner, store, release } = racingStore((cur) => ({
      ...cur,
      runningTasksCount: 3,
      pendingTasksCount: 0,
      version: (cur.version ?? 0) + 1,
    }));
    const d = deps(store);
    await putInstance(inner, 'ci1', { memory: 1000 });
    const td = await putDefinition(inner);
    // Finishes while the feed is held: no new plan was needed.
    const result = await place(d, td, 2);
    assert.deepEqual(
      result.tasks.map((t) => t.containerInstanceArn!.split('/').pop()),
      ['ci1', 'ci1'],
    );
    const ci = await instance(inner, 'ci1');
    assert.equal(ci.runningTasksCount, 3, 'the other write is kept');
    assert.equal(ci.pendingTasksCount, 2);
    assert.equal(instanceRemaining(ci.remainingResources).memory, 1000 - 2 * 256);
    release();
  });

  it('plans again on fresh state when what the plan judged changed', async () => {
    const { inner, store, release } = racingStore((cur) => ({
      ...cur,
      remainingResources: cur.remainingResources!.map((r) =>
        r.name === 'MEMORY' ? { ...r, integerValue: 300 } : r,
      ),
    }));
    const d = deps(store);
    await putInstance(inner, 'ci1', { memory: 1000 });
    await putInstance(inner, 'ci2', { memory: 1000 });
    const td = await putDefinition(inner);
    let done = false;
    const pending = place(d, td, 2).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false, 'a new plan waits for the feed to show the write that won');
    release();
    const result = await pending;
    assert.deepEqual(
      result.tasks.map((t) => t.containerInstanceArn!.split('/').pop()),
      ['ci1', 'ci2'],
    );
    assert.equal(instanceRemaining((await instance(inner, 'ci1')).remainingResources).memory, 300 - 256);
  });
});

describe('applyTaskReports', () => {
  async function twoTasks() {
    const d = deps();
    await putInstance(d.store, 'ci1');
    const td = await putDefinition(d.store, {
      containerDefinitions: [container('app', { memory: 256 })],
    });
    const [a, b] = (await place(d, td, 2)).tasks as [TaskRecord, TaskRecord];
    return { d, a, b };
  }

  it('applies a batch in one transaction, each task in order and each host once', async () => {
    const { d, a, b } = await twoTasks();
    const before = await d.store.revision();
    const results = await applyTaskReports(d, [
      report(a.taskArn, 'PENDING'),
      report(b.taskArn, 'PENDING'),
      report(a.taskArn, 'RUNNING'),
      report(`${ARN}:task/prod/nope`, 'RUNNING'),
      report('task-1', 'RUNNING'),
      report(b.taskArn, 'RUNNING'),
      report(a.taskArn, 'PENDING'), // older than what the batch already applied: no change
    ]);
    assert.deepEqual(
      results.map((r) => r.applied),
      [true, true, true, false, false, true, true],
    );
    assert.match(results[3]!.error!, /not found/);
    assert.match(results[4]!.error!, /not a task ARN/);
    assert.equal(await d.store.revision(), before + 1, 'one transaction');
    const ci = await instance(d.store, 'ci1');
    assert.deepEqual([ci.pendingTasksCount, ci.runningTasksCount], [0, 2]);
    assert.equal((await task(d.store, a.taskArn)).lastStatus, 'RUNNING');
    assert.equal((await task(d.store, b.taskArn)).lastStatus, 'RUNNING');

    // Both stop in one batch: both reservations come back, once, and repeating it changes nothing.
    const stopped = [report(a.taskArn, 'STOPPED'), report(b.taskArn, 'STOPPED')];
    await applyTaskReports(d, stopped);
    const rev = await d.store.revision();
    assert.deepEqual(
      (await applyTaskReports(d, stopped)).map((r) => r.applied),
      [true, true],
    );
    assert.equal(await d.store.revision(), rev);
    const after = await instance(d.store, 'ci1');
    assert.deepEqual([after.pendingTasksCount, after.runningTasksCount], [0, 0]);
    assert.equal(instanceRemaining(after.remainingResources).memory, 2048);
  });

  it('applies the reports one by one when another write wins the race for the batch', async () => {
    const { d, a, b } = await twoTasks();
    // Between the batch's reads and its commit, another writer changes the instance (as a
    // placement or a registration would): the batch's compare fails and nothing of it is lost.
    const key = keys.containerInstance(scope, 'prod', 'ci1');
    let raced = false;
    const racing: Store = Object.create(d.store) as Store;
    racing.txn = async (compares, ops) => {
      if (!raced && compares.length > 2) {
        raced = true;
        const cur = (await d.store.get<ContainerInstanceRecord>(key))!;
        await d.store.txn([], [{ kind: 'put', key, value: { ...cur.value, agentUpdateStatus: 'UPDATED' } }]);
      }
      return d.store.txn(compares, ops);
    };
    const results = await applyTaskReports({ ...d, store: racing }, [
      report(a.taskArn, 'RUNNING'),
      report(b.taskArn, 'RUNNING'),
    ]);
    assert.equal(raced, true);
    assert.deepEqual(
      results.map((r) => r.applied),
      [true, true],
    );
    const ci = await instance(d.store, 'ci1');
    assert.deepEqual([ci.pendingTasksCount, ci.runningTasksCount], [0, 2]);
    assert.equal(ci.agentUpdateStatus, 'UPDATED', "the other writer's change is kept");
  });
});

describe('applyTaskReport', () => {
  async function oneTask(memory = 256) {
    const d = deps();
    await putInstance(d.store, 'ci1');
    const td = await putDefinition(d.store, {
      containerDefinitions: [
        container('app', { memory, portMappings: [{ containerPort: 80, hostPort: 80 }] }),
      ],
    });
    const t = (await place(d, td)).tasks[0]!;
    return { d, t };
  }

  it('moves the host counts with the task and gives the reservation back at STOPPED', async () => {
    const { d, t } = await oneTask();
    assert.deepEqual(await applyTaskReport(d, report(t.taskArn, 'PENDING')), { applied: true });
    let ci = await instance(d.store, 'ci1');
    assert.deepEqual([ci.pendingTasksCount, ci.runningTasksCount], [1, 0]);

    assert.deepEqual(await applyTaskReport(d, report(t.taskArn, 'RUNNING')), { applied: true });
    ci = await instance(d.store, 'ci1');
    assert.deepEqual([ci.pendingTasksCount, ci.runningTasksCount], [0, 1]);
    assert.equal((await task(d.store, t.taskArn)).lastStatus, 'RUNNING');

    d.clock.advance(5000);
    const before = await d.store.revision();
    assert.deepEqual(
      await applyTaskReport(d, report(t.taskArn, 'STOPPED', { stopCode: 'EssentialContainerExited' })),
      {
        applied: true,
      },
    );
    assert.equal(await d.store.revision(), before + 1, 'task and host change in one transaction');
    ci = await instance(d.store, 'ci1');
    assert.deepEqual([ci.pendingTasksCount, ci.runningTasksCount], [0, 0]);
    const left = instanceRemaining(ci.remainingResources);
    assert.equal(left.memory, 2048);
    assert.deepEqual([...left.ports], [22]);
    const stored = await task(d.store, t.taskArn);
    assert.equal(stored.berth.released, true);
    assert.equal(stored.stoppedAt, (T0 + 5000) / 1000);
  });

  it('gives the reservation back exactly once, even for repeated and concurrent STOPPED reports', async () => {
    const { d, t } = await oneTask();
    await applyTaskReport(d, report(t.taskArn, 'RUNNING'));
    const stopped = report(t.taskArn, 'STOPPED');
    const results = await Promise.all(Array.from({ length: 5 }, () => applyTaskReport(d, stopped)));
    assert.ok(results.every((r) => r.applied));
    assert.deepEqual(await applyTaskReport(d, stopped), { applied: true });
    const ci = await instance(d.store, 'ci1');
    assert.equal(instanceRemaining(ci.remainingResources).memory, 2048);
    assert.equal(ci.runningTasksCount, 0);
    assert.equal(ci.pendingTasksCount, 0);
  });

  it('changes nothing in the store for a repeated or older report', async () => {
    const { d, t } = await oneTask();
    await applyTaskReport(d, report(t.taskArn, 'RUNNING'));
    const rev = await d.store.revision();
    assert.deepEqual(await applyTaskReport(d, report(t.taskArn, 'RUNNING')), { applied: true });
    assert.deepEqual(await applyTaskReport(d, report(t.taskArn, 'PENDING')), { applied: true });
    assert.equal(await d.store.revision(), rev);
  });

  it('answers applied: false for an unknown task or a malformed ARN', async () => {
    const d = deps();
    const unknown = await applyTaskReport(d, report(`${ARN}:task/prod/nope`, 'RUNNING'));
    assert.equal(unknown.applied, false);
    assert.match(unknown.error!, /not found/);
    const bad = await applyTaskReport(d, report('task-1', 'RUNNING'));
    assert.equal(bad.applied, false);
    assert.match(bad.error!, /not a task ARN/);
  });

  it('releases managed capacity at STOPPED', async () => {
    const d = deps();
    await putManagedHost(d.store, 'host-1', 1024, 2048);
    const td = await putDefinition(d.store, {
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [container('app', { memory: 100 })],
    });
    const t = (await place(d, td, 1, 'FARGATE')).tasks[0]!;
    await applyTaskReport(d, report(t.taskArn, 'RUNNING'));
    let host = (await d.store.get<ManagedHostRecord>(keys.managedHost('host-1')))!.value;
    assert.deepEqual([host.pendingTasksCount, host.runningTasksCount], [0, 1]);
    assert.deepEqual(host.remaining, { cpu: 768, memory: 1536 });
    await applyTaskReport(d, report(t.taskArn, 'STOPPED'));
    host = (await d.store.get<ManagedHostRecord>(keys.managedHost('host-1')))!.value;
    assert.deepEqual(host.remaining, { cpu: 1024, memory: 2048 });
    assert.equal(host.runningTasksCount, 0);
  });

  it('stops a task whose host record is gone without failing', async () => {
    const { d, t } = await oneTask();
    await d.store.txn([], [{ kind: 'delete', key: keys.containerInstance(scope, 'prod', 'ci1') }]);
    assert.deepEqual(await applyTaskReport(d, report(t.taskArn, 'STOPPED')), { applied: true });
    assert.equal((await task(d.store, t.taskArn)).berth.released, true);
  });
});

describe('stopTask', () => {
  it('asks the task to stop once and answers undefined for no task', async () => {
    const d = deps();
    await putInstance(d.store, 'ci1');
    const td = await putDefinition(d.store);
    const t = (await place(d, td)).tasks[0]!;
    const key = keys.task(scope, 'prod', t.taskArn.split('/').pop()!);
    const stopped = (await stopTask(d, key, { stopCode: 'UserInitiated', reason: 'done' }))!;
    assert.equal(stopped.desiredStatus, 'STOPPED');
    assert.equal(stopped.stoppedReason, 'done');
    const again = (await stopTask(d, key, { reason: 'other' }))!;
    assert.equal(again.stoppedReason, 'done');
    assert.equal(await stopTask(d, keys.task(scope, 'prod', 'nope'), {}), undefined);
  });
});

describe('buildAgentTask and host task lists', () => {
  it('builds what an agent is sent from the task and its definition', async () => {
    const d = deps();
    const ciArn = await putInstance(d.store, 'ci1');
    const td = await putDefinition(d.store, {
      networkMode: 'awsvpc',
      containerDefinitions: [container('app', { memory: 256 }), container('side', { memory: 64 })],
      tags: [{ key: 'k', value: 'v' }],
    });
    const t = (await place(d, td)).tasks[0]!;
    const rec = (await d.store.get<TaskRecord>(keys.task(scope, 'prod', t.taskArn.split('/').pop()!)))!;
    const agentTask = await buildAgentTask(d, rec);
    assert.equal(agentTask.taskArn, t.taskArn);
    assert.equal(agentTask.account, scope.account);
    assert.equal(agentTask.region, scope.region);
    assert.equal(agentTask.version, rec.version);
    assert.equal(agentTask.desiredStatus, 'RUNNING');
    assert.equal(agentTask.launchType, 'EC2');
    assert.equal(agentTask.containerInstanceArn, ciArn);
    assert.equal(agentTask.taskDefinition.taskDefinitionArn, td.taskDefinitionArn);
    assert.equal('tags' in agentTask.taskDefinition, false);
    assert.deepEqual(Object.keys(agentTask.containerArns), ['app', 'side']);
    assert.deepEqual(agentTask.awsvpcConfiguration, { subnets: ['subnet-1'] });
    assert.equal(agentTask.group, 'family:web');
    assert.equal(agentTask.createdAt, T0 / 1000);

    assert.deepEqual(
      (await listActiveTasksOnInstance(d, ciArn)).map((r) => r.value.taskArn),
      [t.taskArn],
    );
    await applyTaskReport(d, report(t.taskArn, 'STOPPED'));
    assert.deepEqual(await listActiveTasksOnInstance(d, ciArn), []);

    await d.store.txn([], [{ kind: 'delete', key: keys.taskDefinition(scope, 'web', 1) }]);
    await assert.rejects(buildAgentTask(d, rec), /not in the store/);
  });

  it('lists the live tasks of a managed host', async () => {
    const d = deps();
    await putManagedHost(d.store, 'host-1');
    const td = await putDefinition(d.store, {
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [container('app', { memory: 100 })],
    });
    const placed = (await place(d, td, 2, 'FARGATE')).tasks;
    await applyTaskReport(d, report(placed[0]!.taskArn, 'STOPPED'));
    assert.deepEqual(
      (await listActiveTasksOnManagedHost(d, 'host-1')).map((r) => r.value.taskArn),
      [placed[1]!.taskArn],
    );
    assert.deepEqual(await listActiveTasksOnManagedHost(d, 'host-2'), []);
  });
});
