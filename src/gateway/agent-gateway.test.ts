// The gateway against an in-memory store, a real HTTP server and scripted agents over real
// websockets; the task module is replaced by a small fake so that these tests pin the gateway's
// own behaviour (test/gateway/ runs it with the real one inside a `berth server`).
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { SESSION_CLOSE_CODES, type AgentTask, type TaskStateReport } from '../domain/agent-protocol.js';
import { systemClock } from '../domain/clock.js';
import type { ContainerInstanceRecord, ManagedHostRecord, TaskRecord } from '../domain/records.js';
import { updateRecord } from '../store/cas.js';
import { keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory-store.js';
import { AgentGateway, type TaskBridge } from './agent-gateway.js';
import { gatewayConfigSchema, type GatewayConfig } from './config.js';
import { FakeAgent, waitFor } from './fake-agent.js';

const A = { account: '123456789012', region: 'us-east-1' };
const C = { account: '222222222222', region: 'eu-west-1' };
const ciArn = (s: typeof A, cluster: string, id: string) =>
  `arn:aws:ecs:${s.region}:${s.account}:container-instance/${cluster}/${id}`;
const I1 = ciArn(A, 'prod', 'a1');
const I2 = ciArn(A, 'prod', 'a2');
const I3 = ciArn(A, 'prod', 'a3');

function instance(arn: string, over: Partial<ContainerInstanceRecord> = {}): ContainerInstanceRecord {
  return {
    containerInstanceArn: arn,
    cluster: 'prod',
    status: 'ACTIVE',
    agentConnected: false,
    version: 1,
    tags: [],
    ...over,
  };
}

function task(s: typeof A, cluster: string, id: string, over: Partial<TaskRecord> = {}): TaskRecord {
  return {
    taskArn: `arn:aws:ecs:${s.region}:${s.account}:task/${cluster}/${id}`,
    clusterArn: `arn:aws:ecs:${s.region}:${s.account}:cluster/${cluster}`,
    desiredStatus: 'RUNNING',
    lastStatus: 'PROVISIONING',
    tags: [],
    berth: {},
    ...over,
  };
}

const ciKey = (arn: string) => {
  const [, cluster, id] = arn.split('/') as [string, string, string];
  const [, , , region, account] = arn.split(':') as string[];
  return keys.containerInstance({ account: account!, region: region! }, cluster, id);
};
const taskKey = (t: TaskRecord) => {
  const [, cluster, id] = t.taskArn.split('/') as [string, string, string];
  const [, , , region, account] = t.taskArn.split(':') as string[];
  return keys.task({ account: account!, region: region! }, cluster, id);
};

interface Harness {
  store: MemoryStore;
  gateway: AgentGateway;
  url: string;
  applied: TaskStateReport[];
  /** The size of each batch the bridge was given. */
  batches: number[];
  /** While `wait` is set, the bridge waits for it before applying anything; while `fail`, it throws. */
  applyGate: { wait?: Promise<void>; fail?: boolean };
  agents: FakeAgent[];
  connect(
    h: Parameters<typeof FakeAgent.session>[1],
    o?: { autoPong?: boolean },
  ): ReturnType<typeof FakeAgent.session>;
  put(key: string, value: unknown): Promise<void>;
  connected(arn: string): Promise<boolean | undefined>;
  stop(): Promise<void>;
}

let current: Harness | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

async function harness(
  opts: { config?: Partial<GatewayConfig>; seed?: (put: Harness['put']) => Promise<void> } = {},
) {
  const store = new MemoryStore();
  const put = async (key: string, value: unknown) => {
    await store.txn([], [{ kind: 'put', key, value }]);
  };
  await opts.seed?.(put);
  const applied: TaskStateReport[] = [];
  const batches: number[] = [];
  const applyGate: Harness['applyGate'] = {};
  const bridge: TaskBridge = {
    async applyTaskReports(deps, reports) {
      batches.push(reports.length);
      await applyGate.wait;
      if (applyGate.fail) throw new Error('store unavailable');
      const results: { applied: boolean; error?: string }[] = [];
      for (const report of reports) {
        if (report.taskArn.includes('boom')) throw new Error('store unavailable');
        applied.push(report);
        const rec = await deps.store.list<TaskRecord>('/');
        const found = rec.find((r) => (r.value as Partial<TaskRecord>).taskArn === report.taskArn);
        if (!found) {
          results.push({ applied: false, error: 'task not found' });
          continue;
        }
        await updateRecord<TaskRecord>(deps.store, found.key, (cur) =>
          cur && cur.lastStatus !== report.status ? { ...cur, lastStatus: report.status } : undefined,
        );
        results.push({ applied: true });
      }
      return results;
    },
    async buildAgentTask(_deps, rec) {
      return {
        taskArn: rec.value.taskArn,
        version: rec.version,
        desiredStatus: rec.value.desiredStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
      } as AgentTask;
    },
  };
  const config = gatewayConfigSchema.parse({
    heartbeatIntervalMs: 50,
    heartbeatTimeoutMs: 400,
    ...opts.config,
  });
  const gateway = new AgentGateway({
    store,
    clock: systemClock,
    log: pino({ level: 'silent' }),
    config,
    accountId: A.account,
    defaultRegion: A.region,
    tasks: bridge,
  });
  const app = Fastify({ forceCloseConnections: true });
  gateway.registerRoutes(app);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  await gateway.start(app.server);
  const agents: FakeAgent[] = [];
  const h: Harness = {
    store,
    gateway,
    url,
    applied,
    batches,
    applyGate,
    agents,
    put,
    async connect(hello, o = {}) {
      const s = await FakeAgent.session(url, hello, o);
      agents.push(s.agent);
      return s;
    },
    async connected(arn) {
      return (await store.get<ContainerInstanceRecord>(ciKey(arn)))?.value.agentConnected;
    },
    async stop() {
      for (const a of agents) a.terminate();
      await gateway.stop();
      await app.close();
    },
  };
  current = h;
  return h;
}

const seedInstances = async (put: Harness['put']) => {
  await put(ciKey(I1), instance(I1));
  await put(ciKey(I2), instance(I2, { status: 'INACTIVE' }));
  await put(ciKey(I3), instance(I3));
};

describe('AgentGateway: sessions', () => {
  it('hello marks its instances connected, then sends welcome and every task of the host that is not STOPPED', async () => {
    const t1 = task(A, 'prod', 't1', { containerInstanceArn: I1, lastStatus: 'RUNNING' });
    const t2 = task(A, 'prod', 't2', {
      containerInstanceArn: I1,
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
    });
    const t3 = task(A, 'prod', 't3', { containerInstanceArn: I3 });
    const h = await harness({
      seed: async (put) => {
        await seedInstances(put);
        for (const t of [t1, t2, t3]) await put(taskKey(t), t);
      },
    });
    const missing = ciArn(A, 'prod', 'ffff');
    const { agent, welcome, tasks } = await h.connect({
      hostId: 'host-1',
      instances: [
        { containerInstanceArn: I1 },
        { containerInstanceArn: I2 },
        { containerInstanceArn: missing },
      ],
    });
    assert.equal(welcome.heartbeatIntervalMs, 50);
    assert.deepEqual(welcome.refusedInstances, [
      { containerInstanceArn: I2, reason: 'INACTIVE' },
      { containerInstanceArn: missing, reason: 'MISSING' },
    ]);
    assert.deepEqual(agent.received.map((m) => m.type).slice(0, 2), ['welcome', 'tasks']);
    assert.equal(tasks.full, true);
    assert.deepEqual(
      tasks.tasks.map((t) => t.taskArn),
      [t1.taskArn],
    );
    const rec = (await h.store.get<ContainerInstanceRecord>(ciKey(I1)))!.value;
    assert.equal(rec.agentConnected, true);
    assert.equal(rec.version, 2, 'a connectivity change bumps the instance version');
    assert.equal(await h.connected(I2), false, 'a deregistered instance stays disconnected');
    assert.equal(await h.connected(I3), false);
    assert.equal(h.gateway.connectedHosts, 1);
  });

  it('a closed socket marks the instances disconnected and leaves the tasks alone', async () => {
    const t1 = task(A, 'prod', 't1', { containerInstanceArn: I1, lastStatus: 'RUNNING' });
    const h = await harness({
      seed: async (put) => {
        await seedInstances(put);
        await put(taskKey(t1), t1);
      },
    });
    const { agent } = await h.connect({ hostId: 'host-1', instances: [{ containerInstanceArn: I1 }] });
    const before = await h.store.get<TaskRecord>(taskKey(t1));
    agent.terminate();
    await waitFor('agentConnected false', async () => (await h.connected(I1)) === false, 2_000);
    const after = await h.store.get<TaskRecord>(taskKey(t1));
    assert.deepEqual(after, before);
    assert.equal(h.gateway.connectedHosts, 0);
  });

  it('a newer session of the same host replaces the older one (closed with 4000) and the instance stays connected', async () => {
    const h = await harness({ seed: seedInstances });
    const first = await h.connect({
      hostId: 'host-1',
      instances: [{ containerInstanceArn: I1 }, { containerInstanceArn: I3 }],
    });
    const second = await h.connect({ hostId: 'host-1', instances: [{ containerInstanceArn: I1 }] });
    assert.equal((await first.agent.waitClosed(2_000)).code, SESSION_CLOSE_CODES.replaced);
    // I3 is not held by the new session: released. I1 stays connected through the old session's close.
    await waitFor('I3 released', async () => (await h.connected(I3)) === false, 2_000);
    assert.equal(await h.connected(I1), true);
    assert.equal(h.gateway.connectedHosts, 1);
    second.agent.close();
    await waitFor('I1 disconnected', async () => (await h.connected(I1)) === false, 2_000);
  });

  it('an old session dying while its replacement says hello never leaves the host marked disconnected', async () => {
    const h = await harness({ seed: seedInstances });
    let live = (await h.connect({ hostId: 'host-1', instances: [{ containerInstanceArn: I1 }] })).agent;
    for (let i = 0; i < 8; i++) {
      const next = await FakeAgent.connect(h.url);
      h.agents.push(next);
      // Both at once: the old socket's close and the new hello race through the gateway.
      if (i % 2 === 0) live.terminate();
      next.hello({ hostId: 'host-1', instances: [{ containerInstanceArn: I1 }] });
      if (i % 2 === 1) live.terminate();
      await next.next('tasks');
      live = next;
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await h.connected(I1), true);
    live.terminate();
    await waitFor('I1 disconnected', async () => (await h.connected(I1)) === false, 2_000);
  });

  it('reconnecting sends the full task list again', async () => {
    const t1 = task(A, 'prod', 't1', { containerInstanceArn: I1, lastStatus: 'RUNNING' });
    const h = await harness({
      seed: async (put) => {
        await seedInstances(put);
        await put(taskKey(t1), t1);
      },
    });
    const first = await h.connect({ hostId: 'host-1', instances: [{ containerInstanceArn: I1 }] });
    first.agent.terminate();
    const again = await h.connect({ hostId: 'host-1', instances: [{ containerInstanceArn: I1 }] });
    assert.equal(again.tasks.full, true);
    assert.deepEqual(
      again.tasks.tasks.map((t) => t.taskArn),
      [t1.taskArn],
    );
    assert.notEqual(again.welcome.sessionId, first.welcome.sessionId);
  });

  it('refuses a bad hello with 4400, closes a socket that never says hello with 4408, and 404s other upgrade paths', async () => {
    const h = await harness({ seed: seedInstances, config: { heartbeatTimeoutMs: 200 } });
    const bad = await FakeAgent.connect(h.url);
    h.agents.push(bad);
    bad.hello({ hostId: 'bad host id', instances: [] });
    const closed = await bad.waitClosed(2_000);
    assert.equal(closed.code, SESSION_CLOSE_CODES.badHello);
    assert.match(closed.reason, /^hostId/);

    const mute = await FakeAgent.connect(h.url);
    h.agents.push(mute);
    assert.equal((await mute.waitClosed(2_000)).code, SESSION_CLOSE_CODES.helloTimeout);

    const other = new WebSocket(h.url.replace('http', 'ws') + '/elsewhere');
    const status = await new Promise<number | undefined>((res) => {
      other.on('unexpected-response', (_req, r) => res(r.statusCode));
      other.on('error', () => res(undefined));
    });
    assert.equal(status, 404);
  });

  it('terminates an agent that stops answering heartbeats and marks it disconnected; a live one stays', async () => {
    const h = await harness({
      seed: seedInstances,
      config: { heartbeatIntervalMs: 50, heartbeatTimeoutMs: 300 },
    });
    const silent = await h.connect(
      { hostId: 'silent', instances: [{ containerInstanceArn: I1 }] },
      { autoPong: false },
    );
    const alive = await h.connect({ hostId: 'alive', instances: [{ containerInstanceArn: I3 }] });
    const t0 = Date.now();
    await silent.agent.waitClosed(2_000);
    assert.ok(Date.now() - t0 < 1_500, `terminated after ${Date.now() - t0} ms`);
    await waitFor('silent agent disconnected', async () => (await h.connected(I1)) === false, 2_000);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(alive.agent.ws.readyState, WebSocket.OPEN);
    assert.equal(await h.connected(I3), true);
  });

  it('start marks what a previous run left connected as disconnected; stop closes sessions with 1001', async () => {
    const h = await harness({
      seed: async (put) => {
        await put(ciKey(I1), instance(I1, { agentConnected: true }));
        await put(keys.managedHost('h1'), {
          hostId: 'h1',
          availabilityZone: 'z',
          agentConnected: true,
          registered: { cpu: 1, memory: 1 },
          remaining: { cpu: 1, memory: 1 },
          runningTasksCount: 0,
          pendingTasksCount: 0,
          updatedAt: 0,
        } satisfies ManagedHostRecord);
      },
    });
    assert.equal(await h.connected(I1), false);
    assert.equal((await h.store.get<ManagedHostRecord>(keys.managedHost('h1')))!.value.agentConnected, false);
    const { agent } = await h.connect({ hostId: 'host-1', instances: [{ containerInstanceArn: I1 }] });
    await h.gateway.stop();
    assert.equal((await agent.waitClosed(2_000)).code, 1001);
    assert.equal(await h.connected(I1), true, 'left for the next start to sweep');
  });
});

describe('AgentGateway: desired state', () => {
  it('pushes new tasks and desiredStatus changes, never the agent’s own reports, and only to the task’s host', async () => {
    const h = await harness({ seed: seedInstances });
    const { agent } = await h.connect({ hostId: 'host-1', instances: [{ containerInstanceArn: I1 }] });
    const other = await h.connect({ hostId: 'host-3', instances: [{ containerInstanceArn: I3 }] });

    const t9 = task(A, 'prod', 't9', { containerInstanceArn: I1 });
    await h.put(taskKey(t9), t9);
    const pushed = await agent.next('tasks');
    assert.equal(pushed.full, false);
    assert.deepEqual(
      pushed.tasks.map((t) => [t.taskArn, t.desiredStatus]),
      [[t9.taskArn, 'RUNNING']],
    );

    await updateRecord<TaskRecord>(h.store, taskKey(t9), (cur) => ({ ...cur!, lastStatus: 'RUNNING' }));
    assert.deepEqual(await agent.quiet('tasks', 150), [], 'a lastStatus change is not echoed');

    await updateRecord<TaskRecord>(h.store, taskKey(t9), (cur) => ({
      ...cur!,
      desiredStatus: 'STOPPED',
      stoppedReason: 'bye',
    }));
    const stop = await agent.next('tasks');
    assert.deepEqual(
      stop.tasks.map((t) => [t.taskArn, t.desiredStatus]),
      [[t9.taskArn, 'STOPPED']],
    );
    assert.ok(stop.tasks[0]!.version > pushed.tasks[0]!.version);

    const managedElsewhere = task(A, 'prod', 'tm', { berth: { managedHostId: 'someone-else' } });
    await h.put(taskKey(managedElsewhere), managedElsewhere);
    assert.deepEqual(await agent.quiet('tasks', 150), []);
    assert.deepEqual(await other.agent.quiet('tasks', 0), [], 'host-3 never saw host-1 tasks');
  });

  it('a managed host: record upserted with consistent remaining, FARGATE tasks of every scope routed by host id', async () => {
    const old = task(C, 'far', 'f1', {
      berth: { managedHostId: 'mh' },
      launchType: 'FARGATE',
      lastStatus: 'RUNNING',
    });
    const h = await harness({
      seed: async (put) => {
        await put(keys.managedHost('mh'), {
          hostId: 'mh',
          availabilityZone: 'local-1a',
          agentConnected: false,
          registered: { cpu: 4096, memory: 8192 },
          remaining: { cpu: 3840, memory: 7680 },
          runningTasksCount: 1,
          pendingTasksCount: 0,
          updatedAt: 0,
        } satisfies ManagedHostRecord);
        await put(taskKey(old), old);
      },
    });
    const { agent, tasks } = await h.connect({
      hostId: 'mh',
      instances: [],
      managed: { cpu: 8192, memory: 8192, availabilityZone: 'local-1a' },
    });
    assert.deepEqual(
      tasks.tasks.map((t) => t.taskArn),
      [old.taskArn],
    );
    const rec = (await h.store.get<ManagedHostRecord>(keys.managedHost('mh')))!.value;
    assert.equal(rec.agentConnected, true);
    assert.deepEqual(rec.registered, { cpu: 8192, memory: 8192 });
    assert.deepEqual(rec.remaining, { cpu: 7936, memory: 7680 });
    assert.equal(rec.runningTasksCount, 1);

    const fresh = task(A, 'default', 'f2', { berth: { managedHostId: 'mh' }, launchType: 'FARGATE' });
    await h.put(taskKey(fresh), fresh);
    assert.deepEqual(
      (await agent.next('tasks')).tasks.map((t) => t.taskArn),
      [fresh.taskArn],
    );

    agent.close();
    await waitFor(
      'managed host disconnected',
      async () =>
        (await h.store.get<ManagedHostRecord>(keys.managedHost('mh')))!.value.agentConnected === false,
      2_000,
    );
  });

  it('a new managed host starts with remaining = registered', async () => {
    const h = await harness();
    await h.connect({
      hostId: 'fresh',
      instances: [],
      managed: { cpu: 2048, memory: 4096, availabilityZone: 'z' },
    });
    const rec = (await h.store.get<ManagedHostRecord>(keys.managedHost('fresh')))!.value;
    assert.deepEqual(rec.remaining, { cpu: 2048, memory: 4096 });
    assert.deepEqual(rec.registered, { cpu: 2048, memory: 4096 });
  });
});

describe('AgentGateway: reports and bad input', () => {
  /** A task on I1, and host-1's agent connected with I1. */
  async function oneTaskOnline(config?: Partial<GatewayConfig>) {
    const t1 = task(A, 'prod', 't1', { containerInstanceArn: I1 });
    const h = await harness({
      ...(config ? { config } : {}),
      seed: async (put) => {
        await seedInstances(put);
        await put(taskKey(t1), t1);
      },
    });
    const { agent } = await h.connect({ hostId: 'host-1', instances: [{ containerInstanceArn: I1 }] });
    return { t1, h, agent };
  }

  it('applies reports and acknowledges them; an apply that throws is not acknowledged; junk never ends the session', async () => {
    const { t1, h, agent } = await oneTaskOnline();
    const report = {
      taskArn: t1.taskArn,
      status: 'RUNNING',
      containers: [{ containerName: 'web', status: 'RUNNING' }],
    };
    agent.send({ type: 'report', id: 'r1', change: report });
    assert.deepEqual(await agent.next('ack'), { type: 'ack', id: 'r1', applied: true });
    assert.equal((await h.store.get<TaskRecord>(taskKey(t1)))!.value.lastStatus, 'RUNNING');

    agent.send({ type: 'report', id: 'r2', change: { ...report, taskArn: `${t1.taskArn}x` } });
    assert.deepEqual(await agent.next('ack'), {
      type: 'ack',
      id: 'r2',
      applied: false,
      error: 'task not found',
    });

    agent.send({
      type: 'report',
      id: 'boom',
      change: { ...report, taskArn: 'arn:aws:ecs:us-east-1:1:task/prod/boom' },
    });
    agent.send('this is not json');
    agent.send({ type: 'no-such-type' });
    agent.send({
      type: 'report',
      id: 'r3',
      change: { taskArn: t1.taskArn, status: 'FINISHED', containers: [] },
    });
    const malformed = await agent.next('ack');
    assert.equal(malformed.id, 'r3');
    assert.equal(malformed.applied, false);
    assert.match(malformed.error ?? '', /malformed report: change\.status/);
    agent.send({ type: 'logs-data', streamId: 'unknown', containerName: 'c', stream: 'stdout', data: 'x' });
    agent.send({ type: 'hello', protocolVersion: 1, hostId: 'again', agentVersion: '1', instances: [] });

    agent.send({ type: 'report', id: 'r4', change: report });
    assert.deepEqual(await agent.next('ack'), { type: 'ack', id: 'r4', applied: true });
    assert.deepEqual(await agent.quiet('ack', 100), [], 'the failed apply was not acknowledged');
    assert.equal(agent.ws.readyState, WebSocket.OPEN);
    assert.deepEqual(await agent.quiet('tasks', 0), [], 'reports were not echoed as tasks');
    assert.equal(await h.connected(I1), true, 'a second hello on the socket was ignored');
  });

  it('a report the store could not take is applied and acknowledged on a later try in the same session', async () => {
    const { t1, h, agent } = await oneTaskOnline({ reportRetryBaseMs: 30, reportRetryMaxMs: 60 });
    h.applyGate.fail = true;
    agent.send({
      type: 'report',
      id: 'r1',
      change: { taskArn: t1.taskArn, status: 'RUNNING', containers: [] },
    });
    assert.deepEqual(await agent.quiet('ack', 150), [], 'not acknowledged while the store fails');
    assert.ok(h.batches.length >= 2, `tried again while failing: ${h.batches.length} tries`);
    h.applyGate.fail = false;
    assert.deepEqual(await agent.next('ack'), { type: 'ack', id: 'r1', applied: true });
    assert.equal((await h.store.get<TaskRecord>(taskKey(t1)))!.value.lastStatus, 'RUNNING');
    assert.equal(agent.ws.readyState, WebSocket.OPEN);
  });

  it('applies a burst of reports in the order sent and acknowledges each one', async () => {
    const { t1, h, agent } = await oneTaskOnline();
    // The first report's apply waits until the rest are in, so they queue up beyond one batch.
    let open!: () => void;
    h.applyGate.wait = new Promise<void>((r) => (open = r));
    const statuses = ['PENDING', 'RUNNING', 'STOPPED'] as const;
    const ids = Array.from({ length: 60 }, (_, i) => `r${i}`);
    const send = (i: number) =>
      agent.send({
        type: 'report',
        id: ids[i],
        change: { taskArn: t1.taskArn, status: statuses[Math.floor((i * 3) / ids.length)], containers: [] },
      });
    send(0);
    for (let n = 0; n < 200 && h.batches.length === 0; n++) await new Promise((r) => setTimeout(r, 5));
    for (let i = 1; i < ids.length; i++) send(i);
    await new Promise((r) => setTimeout(r, 300));
    open();
    const acks: unknown[] = [];
    for (const _ of ids) acks.push(await agent.next('ack'));
    assert.deepEqual(h.batches, [1, 48, 11], 'the first alone, then the rest in batches of at most 48');
    assert.deepEqual(
      acks,
      ids.map((id) => ({ type: 'ack', id, applied: true })),
    );
    assert.deepEqual(
      h.applied.map((r) => r.status),
      ids.map((_, i) => statuses[Math.floor((i * 3) / ids.length)]),
    );
    assert.equal((await h.store.get<TaskRecord>(taskKey(t1)))!.value.lastStatus, 'STOPPED');
  });

  it('drops reports sent before hello', async () => {
    const h = await harness({ seed: seedInstances });
    const agent = await FakeAgent.connect(h.url);
    h.agents.push(agent);
    agent.send({ type: 'report', id: 'early', change: { taskArn: 'x', status: 'RUNNING', containers: [] } });
    assert.deepEqual(await agent.quiet('ack', 150), []);
    assert.equal(h.applied.length, 0);
  });
});

describe('AgentGateway: logs relay', () => {
  it('relays a task’s logs from its agent to the HTTP client', async () => {
    const t1 = task(A, 'prod', 't1', {
      containerInstanceArn: I1,
      containers: [{ name: 'web' }, { name: 'side' }],
    });
    const h = await harness({
      seed: async (put) => {
        await seedInstances(put);
        await put(taskKey(t1), t1);
      },
    });
    const { agent } = await h.connect({ hostId: 'host-1', instances: [{ containerInstanceArn: I1 }] });
    const response = fetch(`${h.url}/berth/v1/logs?cluster=prod&task=t1&tail=2`);
    const open = await agent.next('logs-open');
    assert.equal(open.taskArn, t1.taskArn);
    assert.equal(open.tail, 2);
    assert.equal(open.follow, false);
    agent.send({
      type: 'logs-data',
      streamId: open.streamId,
      containerName: 'web',
      stream: 'stdout',
      data: 'GET /\n',
    });
    agent.send({
      type: 'logs-data',
      streamId: open.streamId,
      containerName: 'side',
      stream: 'stderr',
      data: 'tick\n',
    });
    agent.send({ type: 'logs-end', streamId: open.streamId });
    const r = await response;
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'web | GET /\nside | tick\n');
  });

  it('ends a followed stream when the agent disconnects, and answers 503 once it is gone', async () => {
    const t1 = task(A, 'prod', 't1', { containerInstanceArn: I1, containers: [{ name: 'web' }] });
    const h = await harness({
      seed: async (put) => {
        await seedInstances(put);
        await put(taskKey(t1), t1);
      },
    });
    const { agent } = await h.connect({ hostId: 'host-1', instances: [{ containerInstanceArn: I1 }] });
    const response = fetch(`${h.url}/berth/v1/logs?cluster=prod&task=t1&follow=true`);
    const open = await agent.next('logs-open');
    agent.send({
      type: 'logs-data',
      streamId: open.streamId,
      containerName: 'web',
      stream: 'stdout',
      data: 'one\n',
    });
    const r = await response;
    assert.equal(r.status, 200);
    agent.terminate();
    assert.equal(await r.text(), 'one\nberth: log stream ended: the agent session closed\n');
    const gone = await fetch(`${h.url}/berth/v1/logs?cluster=prod&task=t1`);
    assert.equal(gone.status, 503);
  });
});
