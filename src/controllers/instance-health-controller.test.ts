// The instance health controller against the in-memory store: tasks placed and reported the way
// the API and the gateway do it (placeTasks, applyTaskReport), hosts disconnected by writing what
// the gateway writes, time on a ManualClock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ManualClock } from '../domain/clock.js';
import { toContainerInstanceView } from '../domain/container-instance/view.js';
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
import type { LaunchType, RegisterTaskDefinitionRequest, Resource } from '../generated/ecs/types.js';
import { applyTaskReport, placeTasks, type TaskDeps } from '../control/tasks.js';
import { keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory-store.js';
import type {
  Change,
  Compare,
  ListOptions,
  Op,
  Store,
  StoredRecord,
  TxnResult,
  WatchOptions,
  Watcher,
} from '../store/store.js';
import { ControllerManager } from './controller-manager.js';
import { InstanceHealthController, hostKindOfKey } from './instance-health-controller.js';
import { ManualTimers, settle } from './manual-timers.js';

const scope = { account: '123456789012', region: 'us-east-1' };
const ARN = 'arn:aws:ecs:us-east-1:123456789012';
const T0 = Date.UTC(2026, 0, 1);
const LOST_AFTER = 5 * 60_000;
const log = pino({ level: 'silent' });

const RESOURCES: Resource[] = [
  { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
  { name: 'MEMORY', type: 'INTEGER', integerValue: 4096 },
  { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22'] },
  { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
];

function setup(store: Store = new MemoryStore()) {
  const clock = new ManualClock(T0);
  const d: TaskDeps & { clock: ManualClock } = { store, clock, log };
  const controller = new InstanceHealthController({ ...d, lostAfterMs: LOST_AFTER });
  return { d, store, clock, controller };
}

const ciKey = (id: string) => keys.containerInstance(scope, 'prod', id);

async function putInstance(store: Store, id: string, extra: Partial<ContainerInstanceRecord> = {}) {
  const value: ContainerInstanceRecord = {
    containerInstanceArn: `${ARN}:container-instance/prod/${id}`,
    cluster: 'prod',
    status: 'ACTIVE',
    agentConnected: true,
    registeredResources: RESOURCES,
    remainingResources: RESOURCES,
    runningTasksCount: 0,
    pendingTasksCount: 0,
    version: 1,
    attributes: [{ name: 'ecs.availability-zone', value: 'us-east-1a' }],
    tags: [],
    ...extra,
  };
  await store.txn([], [{ kind: 'put', key: ciKey(id), value }]);
}

async function putManagedHost(store: Store, hostId: string) {
  const value: ManagedHostRecord = {
    hostId,
    availabilityZone: 'local-1a',
    agentConnected: true,
    registered: { cpu: 4096, memory: 8192 },
    remaining: { cpu: 4096, memory: 8192 },
    runningTasksCount: 0,
    pendingTasksCount: 0,
    updatedAt: T0,
  };
  await store.txn([], [{ kind: 'put', key: keys.managedHost(hostId), value }]);
}

async function instance(store: Store, id: string): Promise<ContainerInstanceRecord> {
  return (await store.get<ContainerInstanceRecord>(ciKey(id)))!.value;
}

async function taskOf(store: Store, arn: string): Promise<TaskRecord> {
  const id = arn.slice(arn.lastIndexOf('/') + 1);
  return (await store.get<TaskRecord>(keys.task(scope, 'prod', id)))!.value;
}

/** What the gateway writes when an agent's session ends (or comes back). */
async function setConnected(store: Store, key: string, connected: boolean, at: number): Promise<void> {
  const rec = (await store.get<ContainerInstanceRecord & ManagedHostRecord>(key))!;
  const v = rec.value;
  const next =
    hostKindOfKey(key) === 'managed'
      ? {
          ...v,
          agentConnected: connected,
          ...(connected ? { disconnectedAt: undefined } : { disconnectedAt: at }),
        }
      : { ...v, agentConnected: connected, berth: connected ? {} : { disconnectedAt: at } };
  await store.txn([{ key, version: rec.version }], [{ kind: 'put', key, value: next }]);
}

async function putDefinition(
  store: Store,
  req: Partial<RegisterTaskDefinitionRequest> = {},
): Promise<TaskDefinitionRecord> {
  const td = withRevision(
    buildTaskDefinition(
      {
        family: 'web',
        containerDefinitions: [
          container('app', { memory: 256, cpu: 128, portMappings: [{ containerPort: 80, hostPort: 8080 }] }),
        ],
        ...req,
      },
      { now: T0, principalArn: 'p' },
    ),
    scope,
    1,
  );
  await store.txn([], [{ kind: 'put', key: keys.taskDefinition(scope, td.family, 1), value: td }]);
  return td;
}

let seq = 0;
/** Places tasks as RunTask does; `instanceIds` pins them to named instances. */
async function place(
  d: TaskDeps,
  td: TaskDefinitionRecord,
  opts: { count?: number; launchType?: LaunchType; instanceIds?: string[] } = {},
): Promise<TaskRecord[]> {
  const launchType = opts.launchType ?? 'EC2';
  const count = opts.count ?? 1;
  const resolved = resolveOverrides(td, undefined, launchType);
  const reservation = computeTaskReservation({
    containers: resolved.containers,
    ...(resolved.cpu !== undefined ? { cpu: resolved.cpu } : {}),
    ...(resolved.memory !== undefined ? { memory: resolved.memory } : {}),
    ...(td.networkMode !== undefined ? { networkMode: td.networkMode } : {}),
    launchType,
  });
  const ids = Array.from({ length: count }, () => `task${String(++seq).padStart(6, '0')}`);
  const r = await placeTasks(d, {
    target:
      launchType === 'FARGATE'
        ? { kind: 'managed' }
        : {
            kind: 'instances',
            scope,
            cluster: 'prod',
            ...(opts.instanceIds ? { instanceIds: opts.instanceIds } : {}),
          },
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
  assert.equal(r.tasks.length, count, JSON.stringify(r.rejections));
  return r.tasks;
}

async function report(d: TaskDeps, taskArn: string, status: 'RUNNING' | 'STOPPED'): Promise<void> {
  const r = await applyTaskReport(d, {
    taskArn,
    status,
    containers: [{ containerName: 'app', status, runtimeId: 'c1' }],
  });
  assert.equal(r.applied, true);
}

/** The in-memory store with a hook run after each transaction. */
class TxnHookStore implements Store {
  readonly backend = 'memory';
  constructor(
    private readonly inner: MemoryStore,
    private readonly after: (ops: readonly Op[], r: TxnResult) => Promise<void>,
  ) {}
  get<T>(key: string): Promise<StoredRecord<T> | undefined> {
    return this.inner.get<T>(key);
  }
  getMany<T>(k: readonly string[]): Promise<(StoredRecord<T> | undefined)[]> {
    return this.inner.getMany<T>(k);
  }
  list<T>(prefix: string, o?: ListOptions): Promise<StoredRecord<T>[]> {
    return this.inner.list<T>(prefix, o);
  }
  count(prefix: string): Promise<number> {
    return this.inner.count(prefix);
  }
  async txn(c: readonly Compare[], o: readonly Op[]): Promise<TxnResult> {
    const r = await this.inner.txn(c, o);
    await this.after(o, r);
    return r;
  }
  watch(
    prefix: string,
    o: WatchOptions,
    onChange: (c: Change) => void,
    onError?: (e: Error) => void,
  ): Watcher {
    return this.inner.watch(prefix, o, onChange, onError);
  }
  revision(): Promise<number> {
    return this.inner.revision();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('hostKindOfKey', () => {
  it('knows container instance and managed host keys, nothing else', () => {
    assert.equal(hostKindOfKey(ciKey('abc')), 'instance');
    assert.equal(hostKindOfKey(keys.managedHost('h1')), 'managed');
    for (const k of [
      keys.task(scope, 'prod', 't1'),
      keys.cluster(scope, 'prod'),
      keys.containerInstancesOfCluster(scope, 'prod'),
      keys.managedHosts(),
      `${keys.managedHost('h1')}/x`,
      '/a/b/container-instances/prod/id/extra',
    ]) {
      assert.equal(hostKindOfKey(k), undefined, k);
    }
  });
});

describe('InstanceHealthController', () => {
  it('a brief disconnect changes nothing, and asks to look again when the host would be lost', async () => {
    const { d, store, clock, controller } = setup();
    await putInstance(store, 'ci1');
    const td = await putDefinition(store);
    const [t] = await place(d, td);
    await report(d, t!.taskArn, 'RUNNING');

    assert.equal(await controller.sync(ciKey('ci1')), undefined, 'connected: nothing to do');
    await setConnected(store, ciKey('ci1'), false, clock.now());
    const before = await store.revision();
    assert.deepEqual(await controller.sync(ciKey('ci1')), { requeueAfterMs: LOST_AFTER });
    clock.advance(2 * 60_000);
    assert.deepEqual(await controller.sync(ciKey('ci1')), { requeueAfterMs: LOST_AFTER - 2 * 60_000 });
    assert.equal(await store.revision(), before, 'nothing written');

    await setConnected(store, ciKey('ci1'), true, clock.now());
    clock.advance(LOST_AFTER);
    assert.equal(await controller.sync(ciKey('ci1')), undefined);
    assert.equal((await taskOf(store, t!.taskArn)).lastStatus, 'RUNNING');
  });

  it('a host lost for good: its tasks are STOPPED by the control plane and their resources come back', async () => {
    const { d, store, clock, controller } = setup();
    await putInstance(store, 'ci1');
    await putInstance(store, 'ci2');
    const td = await putDefinition(store);
    const [running] = await place(d, td, { instanceIds: ['ci1'] });
    const [elsewhere] = await place(d, td, { instanceIds: ['ci2'] });
    await report(d, running!.taskArn, 'RUNNING');
    await report(d, elsewhere!.taskArn, 'RUNNING');
    const ci2Before = await instance(store, 'ci2');

    await setConnected(store, ciKey('ci1'), false, clock.now());
    clock.advance(LOST_AFTER);
    assert.equal(await controller.sync(ciKey('ci1')), undefined);

    const t = await taskOf(store, running!.taskArn);
    assert.equal(t.lastStatus, 'STOPPED');
    assert.equal(t.desiredStatus, 'STOPPED');
    assert.equal(t.stopCode, 'InfrastructureHealth');
    assert.equal(
      t.stoppedReason,
      'Container instance ci1 lost: its agent has been disconnected for more than 5 minutes.',
    );
    assert.equal(t.stoppedAt, clock.now() / 1000);
    assert.deepEqual(
      t.containers?.map((c) => c.lastStatus),
      ['STOPPED'],
    );
    const ci1 = await instance(store, 'ci1');
    assert.deepEqual(ci1.remainingResources, RESOURCES, 'every reservation given back');
    assert.equal(ci1.runningTasksCount, 0);
    assert.equal(ci1.pendingTasksCount, 0);
    assert.equal(ci1.status, 'ACTIVE', 'the instance stays registered');
    assert.equal(ci1.agentConnected, false);
    assert.equal((await taskOf(store, elsewhere!.taskArn)).lastStatus, 'RUNNING', 'other hosts untouched');
    assert.deepEqual(await instance(store, 'ci2'), ci2Before);

    // Level-triggered: running it again writes nothing.
    const rev = await store.revision();
    await controller.sync(ciKey('ci1'));
    assert.equal(await store.revision(), rev);
  });

  it('stops PENDING tasks and leaves STOPPED ones as they are', async () => {
    const { d, store, clock, controller } = setup();
    await putInstance(store, 'ci1');
    const td = await putDefinition(store, {
      containerDefinitions: [container('app', { memory: 128 })],
    });
    const [pending, stopped] = await place(d, td, { count: 2 });
    await report(d, stopped!.taskArn, 'STOPPED');
    const stoppedBefore = await store.get<TaskRecord>(
      keys.task(scope, 'prod', stopped!.taskArn.split('/').pop()!),
    );
    assert.equal((await instance(store, 'ci1')).pendingTasksCount, 1);

    await setConnected(store, ciKey('ci1'), false, clock.now());
    clock.advance(LOST_AFTER + 1);
    await controller.sync(ciKey('ci1'));
    const p = await taskOf(store, pending!.taskArn);
    assert.equal(p.lastStatus, 'STOPPED');
    assert.equal(p.stopCode, 'InfrastructureHealth');
    assert.deepEqual(
      await store.get<TaskRecord>(keys.task(scope, 'prod', stopped!.taskArn.split('/').pop()!)),
      stoppedBefore,
    );
    const ci1 = await instance(store, 'ci1');
    assert.equal(ci1.pendingTasksCount, 0);
    assert.deepEqual(ci1.remainingResources, RESOURCES);
  });

  it('a disconnected instance nobody timed: the clock starts now, recorded out of sight of the API', async () => {
    const { store, clock, controller } = setup();
    await putInstance(store, 'ci1', { agentConnected: false });
    clock.advance(60_000);
    assert.deepEqual(await controller.sync(ciKey('ci1')), { requeueAfterMs: LOST_AFTER });
    const rec = await instance(store, 'ci1');
    assert.equal(rec.berth?.disconnectedAt, clock.now());
    assert.equal(rec.version, 1, 'bookkeeping only: the ECS version does not move');
    assert.equal('berth' in toContainerInstanceView(rec), false);
  });

  it('time the control plane was not watching does not count', async () => {
    const { store, controller } = setup();
    await putInstance(store, 'ci1', { agentConnected: false, berth: { disconnectedAt: T0 - 3_600_000 } });
    assert.deepEqual(await controller.sync(ciKey('ci1')), { requeueAfterMs: LOST_AFTER });
  });

  it('a deregistered instance is left alone', async () => {
    const { d, store, clock, controller } = setup();
    await putInstance(store, 'ci1');
    const td = await putDefinition(store);
    const [t] = await place(d, td);
    await report(d, t!.taskArn, 'RUNNING');
    await setConnected(store, ciKey('ci1'), false, clock.now());
    const rec = (await store.get<ContainerInstanceRecord>(ciKey('ci1')))!;
    await store.txn([], [{ kind: 'put', key: ciKey('ci1'), value: { ...rec.value, status: 'INACTIVE' } }]);
    clock.advance(LOST_AFTER * 10);
    assert.equal(await controller.sync(ciKey('ci1')), undefined);
    assert.equal((await taskOf(store, t!.taskArn)).lastStatus, 'RUNNING');
    assert.deepEqual(await controller.listKeys(), []);
  });

  it('a lost managed host: its FARGATE tasks are stopped and its capacity comes back', async () => {
    const { d, store, clock, controller } = setup();
    await putManagedHost(store, 'mh1');
    const td = await putDefinition(store, {
      family: 'fg',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [container('app')],
    });
    const [t] = await place(d, td, { launchType: 'FARGATE' });
    await report(d, t!.taskArn, 'RUNNING');
    assert.deepEqual((await store.get<ManagedHostRecord>(keys.managedHost('mh1')))!.value.remaining, {
      cpu: 4096 - 256,
      memory: 8192 - 512,
    });
    await setConnected(store, keys.managedHost('mh1'), false, clock.now());
    assert.deepEqual(await controller.listKeys(), [keys.managedHost('mh1')]);
    clock.advance(LOST_AFTER);
    await controller.sync(keys.managedHost('mh1'));
    const stopped = await taskOf(store, t!.taskArn);
    assert.equal(stopped.lastStatus, 'STOPPED');
    assert.equal(
      stopped.stoppedReason,
      'Host mh1 lost: its agent has been disconnected for more than 5 minutes.',
    );
    assert.equal(stopped.attachments?.[0]?.status, 'DELETED');
    const host = (await store.get<ManagedHostRecord>(keys.managedHost('mh1')))!.value;
    assert.deepEqual(host.remaining, { cpu: 4096, memory: 8192 });
    assert.equal(host.runningTasksCount, 0);
  });

  it('an agent that reconnects while its tasks are being stopped keeps the rest', async () => {
    const inner = new MemoryStore();
    let reconnectAfterFirst = true;
    // The gateway's reconnect lands right after the first task was stopped.
    const store = new TxnHookStore(inner, async (ops, r) => {
      const stoppedOne = ops.some(
        (op) => op.kind === 'put' && (op.value as Partial<TaskRecord>).stopCode === 'InfrastructureHealth',
      );
      if (r.succeeded && stoppedOne && reconnectAfterFirst) {
        reconnectAfterFirst = false;
        await setConnected(inner, ciKey('ci1'), true, 0);
      }
    });
    const { d, clock, controller } = setup(store);
    await putInstance(store, 'ci1');
    const td = await putDefinition(store, { containerDefinitions: [container('app', { memory: 128 })] });
    const tasks = await place(d, td, { count: 3 });
    for (const t of tasks) await report(d, t.taskArn, 'RUNNING');
    await setConnected(store, ciKey('ci1'), false, clock.now());
    clock.advance(LOST_AFTER);
    await controller.sync(ciKey('ci1'));
    const statuses = await Promise.all(tasks.map(async (t) => (await taskOf(store, t.taskArn)).lastStatus));
    assert.deepEqual(statuses.sort(), ['RUNNING', 'RUNNING', 'STOPPED']);
    const ci1 = await instance(store, 'ci1');
    assert.equal(ci1.agentConnected, true);
    assert.equal(ci1.runningTasksCount, 2);
    assert.equal(instanceRemaining(ci1.remainingResources).memory, 4096 - 2 * 128);
  });

  it('run by the manager: the disconnect is seen on the feed and the tasks stop once the timeout passes', async () => {
    const store = new MemoryStore();
    const { d, clock, controller } = setup(store);
    const timers = new ManualTimers(clock);
    await putInstance(store, 'ci1');
    const td = await putDefinition(store);
    const [t] = await place(d, td);
    await report(d, t!.taskArn, 'RUNNING');
    const m = new ControllerManager({ store, clock, log, timers });
    m.register(controller);
    await m.start();
    try {
      await settle();
      await setConnected(store, ciKey('ci1'), false, clock.now());
      await settle();
      assert.equal(m.stats().delayed, 1, 'the key waits for the timeout');
      timers.advance(LOST_AFTER - 1);
      await settle();
      assert.equal((await taskOf(store, t!.taskArn)).lastStatus, 'RUNNING');
      timers.advance(1);
      await settle();
      assert.equal((await taskOf(store, t!.taskArn)).lastStatus, 'STOPPED');
      assert.deepEqual((await instance(store, 'ci1')).remainingResources, RESOURCES);
    } finally {
      await m.stop();
    }
  });
});
