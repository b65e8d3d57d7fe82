// The service scheduler end to end in one process: the real API handlers write services, the real
// ControllerManager runs the ServiceController on a MemoryStore, and a fake agent moves tasks
// through applyTaskReport, the way the gateway applies a real agent's reports. Time is a
// ManualClock: the stability window, back-off and grace periods are crossed with timers.advance.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { testContext } from '../api/operations/test-context.js';
import { containerInstanceOperations } from '../api/operations/container-instances.js';
import { serviceOperations } from '../api/operations/services.js';
import { taskDefinitionOperations } from '../api/operations/task-definitions.js';
import { taskSetOperations } from '../api/operations/task-sets.js';
import { applyTaskReport } from '../control/tasks.js';
import type { TaskStateReport } from '../domain/agent-protocol.js';
import { ManualClock } from '../domain/clock.js';
import type {
  ClusterRecord,
  ContainerInstanceRecord,
  ServiceDeploymentRecord,
  ServiceRecord,
  TaskRecord,
} from '../domain/records.js';
import type {
  CreateServiceRequest,
  RegisterTaskDefinitionRequest,
  Resource,
} from '../generated/ecs/types.js';
import { keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory-store.js';
import type { Compare, Op, TxnResult } from '../store/store.js';
import { ControllerManager } from './controller-manager.js';
import { ManualTimers, settle } from './manual-timers.js';
import { InstanceHealthController } from './instance-health-controller.js';
import { ServiceController } from './service-controller.js';

const ARN = 'arn:aws:ecs:us-east-1:123456789012';
const T0 = Date.UTC(2026, 0, 1);
const log = pino({ level: 'silent' });
const scope = { account: '123456789012', region: 'us-east-1' };

/** What the fake agent does with a task, by its container image. */
type Behaviour = 'run' | 'fail' | 'exit' | 'unhealthy' | 'hold';

const RESOURCES: Resource[] = [
  { name: 'CPU', type: 'INTEGER', integerValue: 4096 },
  { name: 'MEMORY', type: 'INTEGER', integerValue: 4096 },
  { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22'] },
  { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
];

/** A store whose next writes of a key can be made to fail, as a crash between two steps would leave it. */
class FlakyStore extends MemoryStore {
  failWritesOf: string | undefined;
  failures = 0;
  override async txn(compares: readonly Compare[], ops: readonly Op[]): Promise<TxnResult> {
    if (this.failures > 0 && ops.some((o) => o.key === this.failWritesOf)) {
      this.failures--;
      throw new Error('injected crash before the service write');
    }
    return super.txn(compares, ops);
  }
}

class FakeAgent {
  /** Per image: what happens to its tasks. */
  readonly behaviour = new Map<string, Behaviour>();
  constructor(
    private readonly store: MemoryStore,
    private readonly clock: ManualClock,
  ) {}

  private async report(
    t: TaskRecord,
    change: Partial<TaskStateReport> & { status: TaskStateReport['status'] },
  ) {
    const containers = (t.containers ?? []).map((c) => ({
      containerName: c.name!,
      status:
        change.status === 'RUNNING'
          ? ('RUNNING' as const)
          : change.status === 'STOPPED'
            ? ('STOPPED' as const)
            : ('PENDING' as const),
      ...(change.healthStatus !== undefined ? { healthStatus: change.healthStatus } : {}),
    }));
    await applyTaskReport(
      { store: this.store, clock: this.clock, log },
      { taskArn: t.taskArn, containers, ...change },
    );
  }

  async tasks(): Promise<TaskRecord[]> {
    return (await this.store.list<TaskRecord>(keys.tasksOfCluster(scope, 'prod'))).map((r) => r.value);
  }

  /** Moves every task one step the way its image behaves. */
  async tick(): Promise<void> {
    for (const t of await this.tasks()) {
      if (t.lastStatus === 'STOPPED') continue;
      if (t.desiredStatus === 'STOPPED') {
        await this.report(t, { status: 'STOPPED' });
        continue;
      }
      const b = this.behaviour.get(t.containers?.[0]?.image ?? '') ?? 'run';
      if (b === 'hold') continue;
      if (b === 'fail') {
        await this.report(t, {
          status: 'STOPPED',
          stopCode: 'TaskFailedToStart',
          reason: 'CannotPullContainerError: pull access denied for missing, repository does not exist',
        });
      } else if (t.lastStatus !== 'RUNNING') {
        await this.report(t, {
          status: 'RUNNING',
          healthStatus: b === 'unhealthy' ? 'UNHEALTHY' : 'HEALTHY',
        });
        // A container that exits at once: RUNNING and STOPPED within the same second.
        if (b === 'exit') await this.report(t, { status: 'STOPPED', stopCode: 'EssentialContainerExited' });
      }
    }
  }

  async kill(taskArn: string): Promise<void> {
    const t = (await this.tasks()).find((x) => x.taskArn === taskArn)!;
    await this.report(t, {
      status: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      reason: 'Essential container in task exited',
    });
  }

  async setHealth(taskArn: string, health: 'HEALTHY' | 'UNHEALTHY'): Promise<void> {
    const t = (await this.tasks()).find((x) => x.taskArn === taskArn)!;
    await this.report(t, { status: 'RUNNING', healthStatus: health });
  }
}

const running: ControllerManager[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()!.stop();
});

async function world(opts: { instances?: string[]; store?: MemoryStore; instanceLostAfterMs?: number } = {}) {
  const store = opts.store ?? new MemoryStore();
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  let n = 0;
  const ctx = testContext({ store, clock });
  const cluster: ClusterRecord = {
    clusterName: 'prod',
    clusterArn: `${ARN}:cluster/prod`,
    status: 'ACTIVE',
    tags: [],
  };
  await store.txn([], [{ kind: 'put', key: keys.cluster(scope, 'prod'), value: cluster }]);
  for (const [i, id] of (opts.instances ?? ['i1', 'i2']).entries())
    await addInstance(store, id, i % 2 === 0 ? 'a' : 'b');
  const m = new ControllerManager({ store, clock, log, timers, resyncIntervalMs: 24 * 3_600_000 });
  const controller = new ServiceController({
    store,
    clock,
    log,
    enqueue: (name, key, after) => m.enqueue(name, key, after),
    newId: () => `00000000-0000-4000-9000-${String(++n).padStart(12, '0')}`,
  });
  m.register(controller);
  if (opts.instanceLostAfterMs !== undefined) {
    m.register(new InstanceHealthController({ store, clock, log, lostAfterMs: opts.instanceLostAfterMs }));
  }
  await m.start();
  running.push(m);
  const agent = new FakeAgent(store, clock);

  const w = {
    store,
    clock,
    timers,
    ctx,
    agent,
    controller,
    m,
    async settle() {
      for (let i = 0; i < 20; i++) {
        await settle();
        const s = m.stats();
        if (s.queued === 0 && s.processing === 0) return;
      }
    },
    /** Agent step, then time moves on by `ms` (the stability window is 5 s), then the scheduler catches up. */
    async round(ms = 6_000) {
      await agent.tick();
      await w.settle();
      timers.advance(ms);
      await w.settle();
    },
    async service(name = 'web'): Promise<ServiceRecord> {
      return (await store.get<ServiceRecord>(keys.service(scope, 'prod', name)))!.value;
    },
    async live(): Promise<TaskRecord[]> {
      return (await agent.tasks()).filter((t) => t.lastStatus !== 'STOPPED');
    },
    async register(req: Partial<RegisterTaskDefinitionRequest> = {}) {
      return (
        await taskDefinitionOperations.RegisterTaskDefinition!(ctx, {
          family: 'web',
          containerDefinitions: [{ name: 'app', image: 'good', memory: 128, cpu: 128 }],
          ...req,
        })
      ).taskDefinition!;
    },
    async create(req: Partial<CreateServiceRequest> = {}) {
      const out = await serviceOperations.CreateService!(ctx, {
        cluster: 'prod',
        serviceName: 'web',
        taskDefinition: 'web',
        desiredCount: 3,
        ...req,
      });
      await w.settle();
      return out.service!;
    },
    /** ServicesStable's condition (models/ecs.waiters-2.json). */
    async stable(name = 'web'): Promise<boolean> {
      const s = await w.service(name);
      return s.deployments?.length === 1 && s.runningCount === s.desiredCount;
    },
    async until(cond: () => Promise<boolean>, rounds = 30): Promise<number> {
      for (let i = 0; i < rounds; i++) {
        if (await cond()) return i;
        await w.round();
      }
      const s = await w.service();
      const tasks = (await agent.tasks()).map(
        (t) => `${t.taskArn.slice(-4)} ${t.startedBy} ${t.lastStatus}/${t.desiredStatus}`,
      );
      assert.fail(
        `condition not reached in ${rounds} rounds; deployments: ${JSON.stringify(s.deployments)}; tasks: ${tasks.join(', ')}; events: ${JSON.stringify(s.events?.slice(0, 8).map((e) => e.message))}`,
      );
    },
  };
  return w;
}

async function addInstance(store: MemoryStore, id: string, zone: string, status = 'ACTIVE') {
  const value: ContainerInstanceRecord = {
    containerInstanceArn: `${ARN}:container-instance/prod/${id}`,
    cluster: 'prod',
    status,
    agentConnected: true,
    registeredResources: RESOURCES,
    remainingResources: RESOURCES,
    runningTasksCount: 0,
    pendingTasksCount: 0,
    version: 1,
    attributes: [
      { name: 'ecs.availability-zone', value: `us-east-1${zone}` },
      { name: 'ecs.capability.container-health-check' },
    ],
    tags: [],
  };
  await store.txn([], [{ kind: 'put', key: keys.containerInstance(scope, 'prod', id), value }]);
}

const messages = (s: ServiceRecord) => (s.events ?? []).map((e) => e.message ?? '');

describe('ServiceController', () => {
  it('create → tasks started → steady state, with ECS events and counts', async () => {
    const w = await world();
    await w.register();
    await w.create({ desiredCount: 3 });
    const placed = await w.live();
    assert.equal(placed.length, 3);
    assert.ok(
      placed.every(
        (t) =>
          t.group === 'service:web' &&
          t.startedBy === (placed[0]!.startedBy ?? '') &&
          t.startedBy!.startsWith('ecs-svc/'),
      ),
    );
    let s = await w.service();
    assert.equal(s.pendingCount, 3);
    assert.match(
      messages(s).at(-1)!,
      /^\(service web\) has started 3 tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$/,
    );
    // Spread over the zones of both instances.
    assert.equal(new Set(placed.map((t) => t.containerInstanceArn)).size, 2);

    await w.until(() => w.stable());
    await w.until(async () => (await w.service()).deployments![0]!.rolloutState === 'COMPLETED');
    s = await w.service();
    assert.equal(s.runningCount, 3);
    assert.equal(s.pendingCount, 0);
    assert.equal(messages(s)[0], '(service web) has reached a steady state.');
    assert.equal(messages(s)[1], `(service web) (deployment ${s.deployments![0]!.id}) deployment completed.`);
    const [h] = (
      await w.store.list<ServiceDeploymentRecord>(keys.serviceDeploymentsOfService(scope, 'prod', 'web'))
    ).map((r) => r.value);
    assert.equal(h!.status, 'SUCCESSFUL');

    // Nothing left to do: another pass writes nothing.
    const before = await w.store.get(keys.service(scope, 'prod', 'web'));
    await w.controller.sync(keys.service(scope, 'prod', 'web'));
    assert.equal((await w.store.get(keys.service(scope, 'prod', 'web')))!.version, before!.version);
  });

  it('replaces a task that stops, and says why it stopped', async () => {
    const w = await world();
    await w.register();
    await w.create({ desiredCount: 2 });
    await w.until(async () => (await w.service()).deployments![0]!.rolloutState === 'COMPLETED');
    const [victim] = await w.live();
    await w.agent.kill(victim!.taskArn);
    await w.settle();
    const live = await w.live();
    assert.equal(live.length, 2);
    assert.ok(!live.some((t) => t.taskArn === victim!.taskArn));
    const s = await w.service();
    const id = victim!.taskArn.split('/').pop();
    assert.ok(
      messages(s).includes(`(service web) (task ${id}) stopped: Essential container in task exited.`),
    );
    await w.until(() => w.stable());
  });

  it('rolling update: at most floor(D × max%) RUNNING+PENDING and at least ceil(D × min%) healthy at every observed state', async () => {
    const w = await world({ instances: ['i1', 'i2', 'i3'] });
    await w.register();
    await w.create({
      desiredCount: 4,
      deploymentConfiguration: { maximumPercent: 150, minimumHealthyPercent: 75 },
    });
    await w.until(async () => (await w.service()).deployments![0]!.rolloutState === 'COMPLETED');
    await w.register({ containerDefinitions: [{ name: 'app', image: 'good:v2', memory: 128, cpu: 128 }] });
    await serviceOperations.UpdateService!(w.ctx, { cluster: 'prod', service: 'web', taskDefinition: 'web' });
    await w.settle();
    let maxSeen = 0;
    let minHealthy = Number.POSITIVE_INFINITY;
    const observe = async () => {
      const live = await w.live();
      maxSeen = Math.max(maxSeen, live.length);
      const healthy = live.filter(
        (t) =>
          t.lastStatus === 'RUNNING' &&
          t.desiredStatus === 'RUNNING' &&
          (t.startedAt ?? 0) * 1000 + 5000 <= w.clock.now(),
      );
      minHealthy = Math.min(minHealthy, healthy.length);
    };
    for (let i = 0; i < 30; i++) {
      await observe();
      const s = await w.service();
      if (s.deployments!.length === 1 && s.deployments![0]!.rolloutState === 'COMPLETED') break;
      await w.agent.tick();
      await observe();
      await w.settle();
      await observe();
      w.timers.advance(6_000);
      await w.settle();
    }
    const s = await w.service();
    assert.equal(s.deployments!.length, 1, 'the old deployment drained and disappeared');
    assert.equal(s.deployments![0]!.taskDefinition, `${ARN}:task-definition/web:2`);
    assert.ok(maxSeen <= 6, `max RUNNING+PENDING ${maxSeen} > 6`);
    assert.ok(minHealthy >= 3, `min healthy ${minHealthy} < 3`);
    const live = await w.live();
    assert.equal(live.length, 4);
    assert.ok(live.every((t) => t.taskDefinitionArn === `${ARN}:task-definition/web:2`));
  });

  it('circuit breaker: a task that never reaches RUNNING fails the deployment, and rollback brings the last COMPLETED one back', async () => {
    const w = await world();
    await w.register();
    await w.create({
      desiredCount: 2,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    });
    await w.until(async () => (await w.service()).deployments![0]!.rolloutState === 'COMPLETED');
    const first = (await w.service()).deployments![0]!.id!;
    w.agent.behaviour.set('missing', 'fail');
    await w.register({ containerDefinitions: [{ name: 'app', image: 'missing', memory: 128, cpu: 128 }] });
    await serviceOperations.UpdateService!(w.ctx, { cluster: 'prod', service: 'web', taskDefinition: 'web' });
    await w.settle();
    const failed = (await w.service()).deployments![0]!.id!;
    assert.notEqual(failed, first);

    await w.until(async () => {
      const s = await w.service();
      return (
        s.deployments!.length === 1 &&
        s.deployments![0]!.id === first &&
        s.deployments![0]!.rolloutState === 'COMPLETED'
      );
    });
    const s = await w.service();
    assert.equal(s.deployments![0]!.status, 'PRIMARY');
    assert.equal(s.taskDefinition, `${ARN}:task-definition/web:1`);
    const text = messages(s);
    assert.ok(
      text.includes(`(service web) (deployment ${failed}) deployment failed: tasks failed to start.`),
      text.join('\n'),
    );
    assert.ok(text.includes(`(service web) (deployment ${failed}) rolling back to deployment ${first}.`));
    assert.ok(text.some((m) => m.includes('stopped: CannotPullContainerError')));
    assert.equal(
      text.filter((m) => m === `(service web) (deployment ${first}) deployment completed.`).length,
      2,
    );
    assert.ok(
      text.indexOf(`(service web) (deployment ${first}) deployment completed.`) <
        text.indexOf(`(service web) (deployment ${failed}) rolling back to deployment ${first}.`),
      'newest first: completed again after the rollback',
    );
    const hist = (
      await w.store.list<ServiceDeploymentRecord>(keys.serviceDeploymentsOfService(scope, 'prod', 'web'))
    ).map((r) => r.value);
    const failedHist = hist.find((h) => h.berth.deploymentId === failed)!;
    assert.equal(failedHist.status, 'ROLLBACK_SUCCESSFUL');
    assert.equal(failedHist.deploymentCircuitBreaker?.status, 'TRIGGERED');
    assert.ok((failedHist.deploymentCircuitBreaker?.failureCount ?? 0) >= 3);
    const live = await w.live();
    assert.equal(live.length, 2);
    assert.ok(live.every((t) => t.taskDefinitionArn === `${ARN}:task-definition/web:1`));
  });

  it('circuit breaker without rollback: a container that exits at once fails the deployment and launches stop', async () => {
    const w = await world();
    w.agent.behaviour.set('crash', 'exit');
    await w.register({ containerDefinitions: [{ name: 'app', image: 'crash', memory: 128, cpu: 128 }] });
    await w.create({
      desiredCount: 1,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false } },
    });
    await w.until(async () => (await w.service()).deployments![0]!.rolloutState === 'FAILED');
    const count = (await w.agent.tasks()).length;
    for (let i = 0; i < 3; i++) await w.round(60_000);
    assert.equal((await w.agent.tasks()).length, count, 'a FAILED deployment launches nothing more');
    const s = await w.service();
    assert.equal(
      s.deployments![0]!.rolloutStateReason,
      'ECS deployment circuit breaker: tasks failed to start.',
    );
    assert.ok(s.deployments![0]!.failedTasks! >= 3);
  });

  it('tasks that never start are retried with a growing back-off, and the events say so', async () => {
    const w = await world();
    w.agent.behaviour.set('missing', 'fail');
    await w.register({ containerDefinitions: [{ name: 'app', image: 'missing', memory: 128, cpu: 128 }] });
    await w.create({ desiredCount: 1 });
    for (let i = 0; i < 3; i++) {
      await w.agent.tick();
      await w.settle();
    }
    const after3 = (await w.agent.tasks()).length;
    assert.equal(after3, 3, 'the first failures are retried at once');
    await w.agent.tick();
    await w.settle();
    assert.equal((await w.agent.tasks()).length, 3, 'then the launch waits');
    assert.ok(
      messages(await w.service()).some((m) =>
        /is unable to consistently start tasks successfully.*next launch is in 5 seconds/.test(m),
      ),
    );
    w.timers.advance(5_000);
    await w.settle();
    assert.equal((await w.agent.tasks()).length, 4, 'and happens when the delay is over');
    await w.agent.tick();
    await w.settle();
    assert.ok(messages(await w.service()).some((m) => /next launch is in 10 seconds/.test(m)));
  });

  it('an unhealthy task gets its replacement first and stops once the replacement is healthy', async () => {
    const w = await world();
    await w.register({
      containerDefinitions: [
        { name: 'app', image: 'good', memory: 128, cpu: 128, healthCheck: { command: ['CMD', 'true'] } },
      ],
    });
    await w.create({ desiredCount: 2 });
    await w.until(async () => (await w.service()).deployments![0]!.rolloutState === 'COMPLETED');
    const [sick] = await w.live();
    await w.agent.setHealth(sick!.taskArn, 'UNHEALTHY');
    await w.settle();
    let live = await w.live();
    assert.equal(live.length, 3, 'replacement started first');
    assert.equal(
      live.find((t) => t.taskArn === sick!.taskArn)!.desiredStatus,
      'RUNNING',
      'the unhealthy task still runs',
    );
    await w.agent.tick(); // the replacement becomes RUNNING and HEALTHY
    await w.settle();
    live = await w.live();
    assert.equal(live.find((t) => t.taskArn === sick!.taskArn)?.desiredStatus, 'STOPPED');
    assert.equal(
      live.find((t) => t.taskArn === sick!.taskArn)?.stoppedReason,
      'Task failed container health checks',
    );
    assert.ok(messages(await w.service()).some((m) => m.includes('failed container health checks.')));
  });

  it('DAEMON: one task on each of 3 instances, and on a 4th that joins; none on a DRAINING one', async () => {
    const w = await world({ instances: ['i1', 'i2', 'i3'] });
    await w.register();
    await w.create({ schedulingStrategy: 'DAEMON', desiredCount: undefined });
    let live = await w.live();
    assert.equal(live.length, 3);
    assert.equal(new Set(live.map((t) => t.containerInstanceArn)).size, 3);
    await w.until(() => w.stable());
    await addInstance(w.store, 'i4', 'a');
    await w.settle();
    live = await w.live();
    assert.equal(live.length, 4);
    assert.ok(live.some((t) => t.containerInstanceArn === `${ARN}:container-instance/prod/i4`));
    assert.equal((await w.service()).desiredCount, 4);
    await containerInstanceOperations.UpdateContainerInstancesState!(w.ctx, {
      cluster: 'prod',
      containerInstances: ['i2'],
      status: 'DRAINING',
    });
    await w.settle();
    await w.round();
    live = await w.live();
    assert.equal(live.length, 3);
    assert.ok(!live.some((t) => t.containerInstanceArn === `${ARN}:container-instance/prod/i2`));
    await w.until(() => w.stable());
    assert.equal((await w.service()).desiredCount, 3);
  });

  it('DRAINING an instance moves the service tasks elsewhere', async () => {
    const w = await world({ instances: ['i1'] });
    await w.register();
    await w.create({ desiredCount: 2 });
    await w.until(async () => (await w.service()).deployments![0]!.rolloutState === 'COMPLETED');
    await addInstance(w.store, 'i2', 'b');
    await containerInstanceOperations.UpdateContainerInstancesState!(w.ctx, {
      cluster: 'prod',
      containerInstances: ['i1'],
      status: 'DRAINING',
    });
    await w.settle();
    await w.until(async () => {
      const live = await w.live();
      return (
        live.length === 2 &&
        live.every(
          (t) => t.containerInstanceArn === `${ARN}:container-instance/prod/i2` && t.lastStatus === 'RUNNING',
        )
      );
    });
    assert.ok(messages(await w.service()).some((m) => m.includes('off draining container instance i1')));
  });

  it('an instance lost for good: its tasks are marked STOPPED and replaced on another instance', async () => {
    const w = await world({ instances: ['i1', 'i2'], instanceLostAfterMs: 60_000 });
    await w.register();
    await w.create({ desiredCount: 2 });
    await w.until(async () => (await w.service()).deployments![0]!.rolloutState === 'COMPLETED');
    const onI1 = (await w.live()).filter(
      (t) => t.containerInstanceArn === `${ARN}:container-instance/prod/i1`,
    );
    assert.equal(onI1.length, 1, 'spread over both instances');
    const key = keys.containerInstance(scope, 'prod', 'i1');
    const rec = (await w.store.get<ContainerInstanceRecord>(key))!;
    await w.store.txn(
      [{ key, version: rec.version }],
      [
        {
          kind: 'put',
          key,
          value: { ...rec.value, agentConnected: false, berth: { disconnectedAt: w.clock.now() } },
        },
      ],
    );
    await w.settle();
    assert.equal((await w.live()).length, 2, 'a brief disconnect changes nothing');
    w.timers.advance(60_000);
    await w.settle();
    const lost = (await w.agent.tasks()).find((t) => t.taskArn === onI1[0]!.taskArn)!;
    assert.equal(lost.lastStatus, 'STOPPED');
    assert.equal(lost.stopCode, 'InfrastructureHealth');
    const live = await w.live();
    assert.equal(live.length, 2, 'replaced');
    assert.ok(
      live.every((t) => t.containerInstanceArn === `${ARN}:container-instance/prod/i2`),
      'elsewhere',
    );
    await w.until(() => w.stable());
  });

  it('DeleteService force → DRAINING → INACTIVE once the tasks are gone', async () => {
    const w = await world();
    await w.register();
    await w.create({ desiredCount: 2 });
    await w.until(() => w.stable());
    await serviceOperations.DeleteService!(w.ctx, { cluster: 'prod', service: 'web', force: true });
    await w.settle();
    assert.equal((await w.service()).status, 'DRAINING');
    assert.ok((await w.live()).every((t) => t.desiredStatus === 'STOPPED'));
    await w.until(async () => (await w.service()).status === 'INACTIVE');
    assert.equal((await w.live()).length, 0);
  });

  it('EXTERNAL: task sets are backed by real tasks and a deleted one drains away', async () => {
    const w = await world();
    await w.register();
    await w.create({
      deploymentController: { type: 'EXTERNAL' },
      taskDefinition: undefined,
      desiredCount: 4,
    });
    const { taskSet } = await taskSetOperations.CreateTaskSet!(w.ctx, {
      cluster: 'prod',
      service: 'web',
      taskDefinition: 'web',
      scale: { value: 50, unit: 'PERCENT' },
    });
    await w.settle();
    let live = await w.live();
    assert.equal(live.length, 2);
    assert.ok(live.every((t) => t.startedBy === taskSet!.id));
    await w.until(async () => (await w.service()).taskSets![0]!.stabilityStatus === 'STEADY_STATE');
    await taskSetOperations.DeleteTaskSet!(w.ctx, {
      cluster: 'prod',
      service: 'web',
      taskSet: taskSet!.id!,
      force: true,
    });
    await w.settle();
    await w.until(async () => (await w.service()).taskSets!.length === 0);
    live = await w.live();
    assert.equal(live.length, 0);
  });

  it('a crash between placing tasks and writing the service neither loses nor duplicates tasks', async () => {
    const store = new FlakyStore();
    store.failWritesOf = keys.service(scope, 'prod', 'web');
    const w = await world({ store });
    await w.register();
    await serviceOperations.CreateService!(w.ctx, {
      cluster: 'prod',
      serviceName: 'web',
      taskDefinition: 'web',
      desiredCount: 3,
    });
    store.failures = 2;
    await w.settle();
    w.timers.advance(1_000); // the manager's retry back-off
    await w.settle();
    assert.equal(store.failures, 0, 'the service writes failed as injected');
    assert.equal((await w.live()).length, 3, 'tasks placed once, not again after the failed writes');
    // A second pass run directly (as after a restart) starts nothing more either.
    await w.controller.sync(keys.service(scope, 'prod', 'web'));
    assert.equal((await w.live()).length, 3);
    await w.until(() => w.stable());
  });

  it("a pass takes its service's tasks from the cluster view, reading no task from the store", async () => {
    const w = await world();
    await w.register();
    await w.create({ serviceName: 'web', desiredCount: 2 });
    await w.create({ serviceName: 'api', desiredCount: 20 });
    await w.until(async () => (await w.stable('web')) && (await w.stable('api')));
    const webTasks = (await w.agent.tasks()).filter((t) => t.group === 'service:web');
    assert.equal(webTasks.length, 2);

    await w.agent.kill(webTasks[0]!.taskArn);
    // From here on, only the pass the stop asked for reads the store.
    const read: string[] = [];
    const { list, get, getMany } = w.store;
    w.store.list = ((prefix: string, o?: object) => {
      read.push(prefix);
      return list.call(w.store, prefix, o);
    }) as typeof list;
    w.store.get = ((k: string) => {
      read.push(k);
      return get.call(w.store, k);
    }) as typeof get;
    w.store.getMany = ((ks: readonly string[]) => {
      read.push(...ks);
      return getMany.call(w.store, ks);
    }) as typeof getMany;
    await w.settle();
    Object.assign(w.store, { list, get, getMany });

    const taskPrefix = keys.tasksOfCluster(scope, 'prod');
    assert.ok(read.length > 0, 'the pass ran and read its service');
    assert.deepEqual(
      read.filter((k) => k.startsWith(taskPrefix)),
      [],
      'no task listed or read from the store',
    );
    // The replacement came, seen through the group's keys.
    assert.equal((await w.live()).filter((t) => t.group === 'service:web').length, 2);
    await w.until(() => w.stable('web'));
  });
});
