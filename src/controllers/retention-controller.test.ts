// The retention controller against the in-memory store: tasks made and stopped the way the API
// does it (RunTask, StopTask, SubmitTaskStateChange through the operation handlers), time on a
// ManualClock, answers read back through DescribeTasks / ListTasks / DescribeClusters.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { clusterOperations } from '../api/operations/clusters.js';
import { CLIENT_TOKEN_TTL_MS, taskOperations as ops } from '../api/operations/tasks.js';
import { taskDefinitionOperations } from '../api/operations/task-definitions.js';
import { testContext } from '../api/operations/test-context.js';
import type { RequestContext } from '../api/context.js';
import { ManualClock } from '../domain/clock.js';
import type { ClusterRecord, ContainerInstanceRecord, ServiceRecord, TaskRecord } from '../domain/records.js';
import { D1, deployment, service, task as serviceTask } from '../domain/service/test-support.js';
import { CLIENT_TOKEN_RETENTION_MS } from '../domain/task/retention.js';
import type { RunTaskRequest } from '../generated/ecs/types.js';
import { keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory-store.js';
import type { Compare, Op, TxnResult } from '../store/store.js';
import { ControllerManager } from './controller-manager.js';
import { ManualTimers, settle } from './manual-timers.js';
import {
  BACKLOG_PASS_DELAY_MS,
  RetentionController,
  SWEEP_KEY,
  runTaskClaimKey,
  type RetentionDeps,
} from './retention-controller.js';

const ARN = 'arn:aws:ecs:us-east-1:123456789012';
const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const HOUR = 60 * MIN;
const RETENTION = HOUR;
const INTERVAL = MIN;
const log = pino({ level: 'silent' });
const scope = { account: '123456789012', region: 'us-east-1' };

/** A store whose next delete first lets `race` write (a concurrent writer winning the race). */
class RacingStore extends MemoryStore {
  race: ((key: string) => Promise<void>) | undefined;

  override async txn(compares: readonly Compare[], ops: readonly Op[]): Promise<TxnResult> {
    const del = ops.find((o) => o.kind === 'delete');
    const race = this.race;
    if (del && race) {
      this.race = undefined;
      await race(del.key);
    }
    return super.txn(compares, ops);
  }
}

const running: ControllerManager[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()!.stop();
});

async function world(opts: Partial<RetentionDeps> = {}) {
  const store = new RacingStore();
  const clock = new ManualClock(T0);
  const ctx = testContext({ store, clock });
  const cluster: ClusterRecord = {
    clusterName: 'prod',
    clusterArn: `${ARN}:cluster/prod`,
    status: 'ACTIVE',
    tags: [],
  };
  await store.txn([], [{ kind: 'put', key: keys.cluster(scope, 'prod'), value: cluster }]);
  const resources = [
    { name: 'CPU', type: 'INTEGER', integerValue: 4096 },
    { name: 'MEMORY', type: 'INTEGER', integerValue: 4096 },
    { name: 'PORTS', type: 'STRINGSET', stringSetValue: [] },
    { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
  ];
  const instance: ContainerInstanceRecord = {
    containerInstanceArn: `${ARN}:container-instance/prod/ci1`,
    cluster: 'prod',
    status: 'ACTIVE',
    agentConnected: true,
    registeredResources: resources,
    remainingResources: resources,
    runningTasksCount: 0,
    pendingTasksCount: 0,
    version: 1,
    attributes: [{ name: 'ecs.availability-zone', value: 'us-east-1a' }],
    tags: [],
  };
  await store.txn([], [{ kind: 'put', key: keys.containerInstance(scope, 'prod', 'ci1'), value: instance }]);
  await taskDefinitionOperations.RegisterTaskDefinition!(ctx, {
    family: 'web',
    containerDefinitions: [{ name: 'app', image: 'busybox', memory: 32, cpu: 16 }],
  });
  const controller = new RetentionController({
    store,
    clock,
    log,
    stoppedTaskRetentionMs: RETENTION,
    intervalMs: INTERVAL,
    ...opts,
  });
  return { store, clock, ctx, controller };
}

type World = Awaited<ReturnType<typeof world>>;

async function run(ctx: RequestContext, input: Partial<RunTaskRequest> = {}): Promise<string[]> {
  const out = await ops.RunTask!(ctx, { cluster: 'prod', taskDefinition: 'web', ...input });
  assert.deepEqual(out.failures, []);
  return out.tasks!.map((t) => t.taskArn!);
}

async function report(ctx: RequestContext, taskArn: string, status: 'RUNNING' | 'STOPPED') {
  await ops.SubmitTaskStateChange!(ctx, {
    cluster: 'prod',
    task: taskArn,
    status,
    containers: [{ containerName: 'app', status, ...(status === 'STOPPED' ? { exitCode: 0 } : {}) }],
  });
}

/** StopTask, then the agent's STOPPED report: the task is STOPPED at the clock's time. */
async function stop(ctx: RequestContext, taskArn: string) {
  await ops.StopTask!(ctx, { cluster: 'prod', task: taskArn });
  await report(ctx, taskArn, 'STOPPED');
}

const idOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

async function describe1(ctx: RequestContext, arn: string) {
  return ops.DescribeTasks!(ctx, { cluster: 'prod', tasks: [arn] });
}

async function listed(ctx: RequestContext, desiredStatus: 'RUNNING' | 'STOPPED'): Promise<string[]> {
  return (await ops.ListTasks!(ctx, { cluster: 'prod', desiredStatus })).taskArns!;
}

/** Every key anywhere in the store that names the task id. */
async function keysNaming(w: World, arn: string): Promise<string[]> {
  return (await w.store.list('/')).map((r) => r.key).filter((k) => k.includes(idOf(arn)));
}

async function instanceCounts(w: World) {
  const ci = (await w.store.get<ContainerInstanceRecord>(keys.containerInstance(scope, 'prod', 'ci1')))!
    .value;
  return { running: ci.runningTasksCount, pending: ci.pendingTasksCount, remaining: ci.remainingResources };
}

async function clusterCounts(w: World) {
  const c = (await clusterOperations.DescribeClusters!(w.ctx, { clusters: ['prod'] })).clusters![0]!;
  return { running: c.runningTasksCount, pending: c.pendingTasksCount };
}

describe('RetentionController', () => {
  it('deletes STOPPED tasks past the retention, keeps young ones, never touches the others', async () => {
    const w = await world();
    const [live, old, young, stopping] = await run(w.ctx, { count: 4 });
    await report(w.ctx, live!, 'RUNNING');
    await stop(w.ctx, old!);
    // Asked to stop, never reported stopped: not STOPPED, whatever its age.
    await ops.StopTask!(w.ctx, { cluster: 'prod', task: stopping! });
    w.clock.advance(30 * MIN);
    await stop(w.ctx, young!);
    w.clock.advance(30 * MIN - 1);

    const before = { instance: await instanceCounts(w), cluster: await clusterCounts(w) };
    let pass = await w.controller.runPass();
    assert.deepEqual(pass, { purgedTasks: 0, purgedTokens: 0, scanned: 4, complete: true });

    w.clock.advance(1);
    pass = await w.controller.runPass();
    assert.deepEqual(pass, { purgedTasks: 1, purgedTokens: 0, scanned: 4, complete: true });
    assert.deepEqual(await describe1(w.ctx, old!), {
      tasks: [],
      failures: [{ arn: old!, reason: 'MISSING' }],
    });
    assert.deepEqual(await keysNaming(w, old!), []);
    assert.deepEqual((await listed(w.ctx, 'STOPPED')).sort(), [young!, stopping!].sort());
    assert.deepEqual(await listed(w.ctx, 'RUNNING'), [live!]);
    // A STOPPED task was counted nowhere: the instance's and the cluster's counts do not move.
    assert.deepEqual({ instance: await instanceCounts(w), cluster: await clusterCounts(w) }, before);
    assert.deepEqual(before.cluster, { running: 1, pending: 1 });

    w.clock.advance(30 * MIN);
    pass = await w.controller.runPass();
    assert.equal(pass.purgedTasks, 1);
    assert.equal((await describe1(w.ctx, young!)).failures![0]!.reason, 'MISSING');

    w.clock.advance(400 * 24 * HOUR);
    pass = await w.controller.runPass();
    assert.deepEqual(pass, { purgedTasks: 0, purgedTokens: 0, scanned: 2, complete: true });
    const left = (await describe1(w.ctx, live!)).tasks!.concat((await describe1(w.ctx, stopping!)).tasks!);
    assert.deepEqual(
      left.map((t) => [t.lastStatus, t.desiredStatus]),
      [
        ['RUNNING', 'RUNNING'],
        ['PROVISIONING', 'STOPPED'],
      ],
    );
  });

  it('judges a task again when it changed under the delete, and keeps it if it is not STOPPED', async () => {
    const w = await world();
    const [arn] = await run(w.ctx);
    await stop(w.ctx, arn!);
    w.clock.advance(2 * HOUR);
    const key = keys.task(scope, 'prod', idOf(arn!));
    // A writer that wins the race with a record that is not STOPPED (no real writer moves a
    // status back; the point is that the delete is judged on the version it removes).
    w.store.race = async (k) => {
      assert.equal(k, key);
      const cur = (await w.store.get<TaskRecord>(key))!;
      await w.store.txn([], [{ kind: 'put', key, value: { ...cur.value, lastStatus: 'RUNNING' } }]);
    };
    const pass = await w.controller.runPass();
    assert.equal(pass.purgedTasks, 0);
    assert.equal((await w.store.get<TaskRecord>(key))!.value.lastStatus, 'RUNNING');

    // A change that leaves it STOPPED and old (a late container report): deleted on the next attempt.
    const [other] = await run(w.ctx);
    await stop(w.ctx, other!);
    w.clock.advance(2 * HOUR);
    const otherKey = keys.task(scope, 'prod', idOf(other!));
    w.store.race = async () => {
      const cur = (await w.store.get<TaskRecord>(otherKey))!;
      await w.store.txn([], [{ kind: 'put', key: otherKey, value: { ...cur.value, version: 99 } }]);
    };
    assert.equal((await w.controller.runPass()).purgedTasks, 1);
    assert.equal(await w.store.get(otherKey), undefined);
  });

  it('deletes at most maxPurgesPerPass per pass and comes back soon while a backlog remains', async () => {
    const w = await world({ maxPurgesPerPass: 5 });
    const arns = [...(await run(w.ctx, { count: 10 })), ...(await run(w.ctx, { count: 2 }))];
    const [keep] = await run(w.ctx);
    await report(w.ctx, keep!, 'RUNNING');
    for (const a of arns) await stop(w.ctx, a);
    w.clock.advance(2 * HOUR);

    const r1 = await w.controller.sync(SWEEP_KEY);
    assert.deepEqual(r1, { requeueAfterMs: BACKLOG_PASS_DELAY_MS });
    assert.equal((await listed(w.ctx, 'STOPPED')).length, 7);
    // Not due yet (the periodic resync enqueues the key too): nothing happens.
    w.clock.advance(BACKLOG_PASS_DELAY_MS - 1);
    assert.deepEqual(await w.controller.sync(SWEEP_KEY), { requeueAfterMs: 1 });
    assert.equal((await listed(w.ctx, 'STOPPED')).length, 7);
    w.clock.advance(1);
    assert.deepEqual(await w.controller.sync(SWEEP_KEY), { requeueAfterMs: BACKLOG_PASS_DELAY_MS });
    assert.equal((await listed(w.ctx, 'STOPPED')).length, 2);
    w.clock.advance(BACKLOG_PASS_DELAY_MS);
    // The last slice ends the walk: back to the interval.
    assert.deepEqual(await w.controller.sync(SWEEP_KEY), { requeueAfterMs: INTERVAL });
    assert.deepEqual(await listed(w.ctx, 'STOPPED'), []);
    assert.deepEqual(await listed(w.ctx, 'RUNNING'), [keep!]);
  });

  it('reads at most maxScannedPerPass records per pass, resuming where the last pass stopped', async () => {
    const w = await world({ maxScannedPerPass: 4 });
    const arns = await run(w.ctx, { count: 10 });
    for (const a of arns) await report(w.ctx, a, 'RUNNING');
    const byKey = [...arns].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1));
    // The last two in key order are the old STOPPED ones.
    await stop(w.ctx, byKey[8]!);
    await stop(w.ctx, byKey[9]!);
    w.clock.advance(2 * HOUR);
    const passes = [];
    for (let i = 0; i < 3; i++) passes.push(await w.controller.runPass());
    assert.deepEqual(
      passes.map((p) => [p.scanned, p.purgedTasks, p.complete]),
      [
        [4, 0, false],
        [4, 0, false],
        [2, 2, true],
      ],
    );
    // The next walk starts over.
    assert.equal((await w.controller.runPass()).scanned, 4);
    assert.equal((await listed(w.ctx, 'RUNNING')).length, 8);
  });

  it('runs every interval under the controller manager', async () => {
    const w = await world();
    const timers = new ManualTimers(w.clock);
    const m = new ControllerManager({
      store: w.store,
      clock: w.clock,
      log,
      timers,
      resyncIntervalMs: 30_000,
    });
    m.register(w.controller);
    await m.start();
    running.push(m);
    const [arn] = await run(w.ctx);
    await stop(w.ctx, arn!);
    const gone = async () => (await w.store.get(keys.task(scope, 'prod', idOf(arn!)))) === undefined;
    for (let t = 10_000; t < RETENTION; t += 10_000) {
      timers.advance(10_000);
      await settle();
    }
    assert.equal(await gone(), false, 'purged before the retention');
    // The first pass after the retention: at most one interval later.
    for (let t = 0; t <= INTERVAL && !(await gone()); t += 10_000) {
      timers.advance(10_000);
      await settle();
    }
    assert.equal(await gone(), true);
  });

  it('deletes clientToken records after 24 hours; the token can then be used for another request', async () => {
    const w = await world();
    // '/' and '%' are legal in a token: the claim's key encodes them.
    const token = 'tok/1%a';
    const first = await run(w.ctx, { clientToken: token });
    const claimKey = runTaskClaimKey(scope, 'prod', token);
    const claim = await w.store.get<{ done: boolean; taskArns: string[] }>(claimKey);
    assert.deepEqual(claim?.value.taskArns, first);
    assert.equal(CLIENT_TOKEN_RETENTION_MS, CLIENT_TOKEN_TTL_MS);
    await assert.rejects(
      run(w.ctx, { clientToken: token, startedBy: 'another' }),
      (e: unknown) => (e as { code?: string }).code === 'ConflictException',
    );

    w.clock.advance(CLIENT_TOKEN_TTL_MS - 1);
    assert.equal((await w.controller.runPass()).purgedTokens, 0);
    assert.notEqual(await w.store.get(claimKey), undefined);
    w.clock.advance(1);
    const pass = await w.controller.runPass();
    assert.equal(pass.purgedTokens, 1);
    assert.equal(await w.store.get(claimKey), undefined);
    // The task it made is still PENDING: tokens and tasks expire on their own terms.
    assert.equal(pass.purgedTasks, 0);
    assert.equal((await describe1(w.ctx, first[0]!)).tasks!.length, 1);

    const again = await run(w.ctx, { clientToken: token, startedBy: 'another' });
    assert.notDeepEqual(again, first);
    const reclaimed = await w.store.get<{ done: boolean; taskArns: string[] }>(claimKey);
    assert.deepEqual(reclaimed?.value.taskArns, again);
    // The new record is young: kept.
    assert.equal((await w.controller.runPass()).purgedTokens, 0);
  });

  it('keeps the tasks of a RunTask that may still be retried with its token', async () => {
    const w = await world();
    const [arn] = await run(w.ctx, { clientToken: 'tok-crash' });
    await stop(w.ctx, arn!);
    // As if RunTask had stopped after creating the task and before recording it on the claim.
    const claimKey = runTaskClaimKey(scope, 'prod', 'tok-crash');
    const claim = (await w.store.get<{ done: boolean }>(claimKey))!;
    await w.store.txn([], [{ kind: 'put', key: claimKey, value: { ...claim.value, done: false } }]);
    w.clock.advance(2 * HOUR);
    assert.equal((await w.controller.runPass()).purgedTasks, 0);
    // A retry now finds its task and creates nothing.
    assert.deepEqual(await run(w.ctx, { clientToken: 'tok-crash' }), [arn!]);
    // The retry recorded it: the claim is done, the task goes.
    assert.equal((await w.controller.runPass()).purgedTasks, 1);
    assert.equal((await describe1(w.ctx, arn!)).failures![0]!.reason, 'MISSING');
  });

  it("keeps what a live service still counts, and deletes it once the service's state releases it", async () => {
    const w = await world();
    const serviceKey = keys.service(scope, 'prod', 'web');
    const put = async (key: string, value: unknown) => w.store.txn([], [{ kind: 'put', key, value }]);
    const twoHoursAgo = (T0 - 2 * HOUR) / 1000;
    const failed = serviceTask({ id: 'failed1', last: 'STOPPED', stoppedAt: twoHoursAgo });
    const taskKey = keys.task(scope, 'prod', 'failed1');
    await put(taskKey, failed);
    // The deployment is rolling out: its failures feed the circuit breaker.
    await put(serviceKey, service());
    assert.equal((await w.controller.runPass()).purgedTasks, 0);

    // Completed, and a task proved healthy after the failure: released...
    const completed = service({
      deployments: [deployment(D1, { rolloutState: 'COMPLETED' })],
      internals: { [D1]: { failuresResetAt: twoHoursAgo + 60 } },
    });
    await put(serviceKey, completed);
    // ...unless the service changes under the delete (a rollback brings the deployment back).
    w.store.race = async () => {
      await put(serviceKey, service());
    };
    assert.equal((await w.controller.runPass()).purgedTasks, 0);
    assert.notEqual(await w.store.get(taskKey), undefined);

    await put(serviceKey, completed);
    assert.equal((await w.controller.runPass()).purgedTasks, 1);
    assert.equal(await w.store.get(taskKey), undefined);

    // A deleted service needs nothing.
    await put(keys.task(scope, 'prod', 'failed2'), { ...failed, taskArn: `${ARN}:task/prod/failed2` });
    await put(serviceKey, { ...service(), status: 'INACTIVE' } satisfies ServiceRecord);
    assert.equal((await w.controller.runPass()).purgedTasks, 1);
  });
});
