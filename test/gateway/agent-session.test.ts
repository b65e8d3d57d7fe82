// The agent gateway inside a real `berth server`, driven through the ECS API with the SDK and
// by a scripted agent speaking the session protocol over a websocket. Heartbeats are shortened
// through BERTH_AGENT_HEARTBEAT_* so that disconnects show within a second.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import {
  CreateClusterCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
  type Task,
} from '@aws-sdk/client-ecs';
import { FakeAgent, waitFor } from '../../src/gateway/fake-agent.js';
import { ecsClient, startBerthServer, type BerthProcess } from '../support/berth-process.js';

const HEARTBEAT_INTERVAL_MS = 100;
const HEARTBEAT_TIMEOUT_MS = 600;
/** Longest a disconnect may take to show: timeout, one more beat, and the store write. */
const DISCONNECT_BOUND_MS = HEARTBEAT_TIMEOUT_MS + HEARTBEAT_INTERVAL_MS + 1_500;
const env = {
  BERTH_AGENT_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_INTERVAL_MS),
  BERTH_AGENT_HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS),
};

let server: BerthProcess;
let ecs: ECSClient;
let dataDir = '';
const agents: FakeAgent[] = [];
/** Each test uses its own cluster, so that placement never picks another test's instance. */
let CLUSTER = 'gw';
let clusters = 0;
async function freshCluster(): Promise<void> {
  CLUSTER = `gw-${++clusters}`;
  await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
}

before(async () => {
  server = await startBerthServer({ env });
  dataDir = server.dataDir;
  ecs = ecsClient(server.url);
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'gw-web',
      containerDefinitions: [
        { name: 'web', image: 'busybox', memory: 64, cpu: 128, command: ['httpd', '-f'] },
        { name: 'side', image: 'busybox', memory: 32, command: ['sleep', '3600'] },
      ],
    }),
  );
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'gw-fargate',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }],
    }),
  );
});

after(async () => {
  for (const a of agents) a.terminate();
  await server?.kill('SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function registerInstance(): Promise<string> {
  const r = await ecs.send(
    new RegisterContainerInstanceCommand({
      cluster: CLUSTER,
      totalResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
        { name: 'MEMORY', type: 'INTEGER', integerValue: 4096 },
      ],
    }),
  );
  return r.containerInstance!.containerInstanceArn!;
}

async function agentConnected(arn: string): Promise<boolean | undefined> {
  const r = await ecs.send(
    new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [arn] }),
  );
  return r.containerInstances?.[0]?.agentConnected;
}

async function describeTask(arn: string): Promise<Task> {
  const r = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }));
  assert.equal(r.failures?.length ?? 0, 0, JSON.stringify(r.failures));
  return r.tasks![0]!;
}

async function connect(hostId: string, instanceArn: string, opts: { autoPong?: boolean } = {}) {
  const s = await FakeAgent.session(
    server.url,
    { hostId, instances: [{ containerInstanceArn: instanceArn }] },
    opts,
  );
  agents.push(s.agent);
  return s;
}

async function runTaskOn(): Promise<string> {
  const r = await ecs.send(
    new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'gw-web', launchType: 'EC2' }),
  );
  assert.deepEqual(r.failures, []);
  return r.tasks![0]!.taskArn!;
}

describe('agent sessions in berth server', () => {
  it('hello marks the instance connected; a killed socket marks it disconnected within the timeout', async () => {
    await freshCluster();
    const arn = await registerInstance();
    assert.equal(await agentConnected(arn), false);
    const { agent, welcome, tasks } = await connect('host-kill', arn);
    assert.equal(welcome.heartbeatIntervalMs, HEARTBEAT_INTERVAL_MS);
    assert.equal(welcome.refusedInstances, undefined);
    assert.deepEqual(tasks, { type: 'tasks', full: true, tasks: [] });
    assert.equal(await agentConnected(arn), true);

    const t0 = Date.now();
    agent.terminate();
    await waitFor(
      'agentConnected false',
      async () => (await agentConnected(arn)) === false,
      DISCONNECT_BOUND_MS,
    );
    assert.ok(Date.now() - t0 < DISCONNECT_BOUND_MS);
  });

  it("records the agent's container runtime health as the instance's healthStatus", async () => {
    await freshCluster();
    const arn = await registerInstance();
    const { agent } = await connect('host-health', arn);
    const health = async () =>
      (
        await ecs.send(
          new DescribeContainerInstancesCommand({
            cluster: CLUSTER,
            containerInstances: [arn],
            include: ['CONTAINER_INSTANCE_HEALTH'],
          }),
        )
      ).containerInstances?.[0]?.healthStatus;
    assert.equal((await health())?.overallStatus, 'INSUFFICIENT_DATA');
    agent.send({
      type: 'health',
      containerRuntime: 'IMPAIRED',
      reason: 'Docker engine unreachable: ECONNREFUSED',
    });
    const impaired = await waitFor('IMPAIRED', async () => {
      const h = await health();
      return h?.overallStatus === 'IMPAIRED' ? h : undefined;
    });
    assert.equal(impaired.details?.[0]?.type, 'CONTAINER_RUNTIME');
    assert.match(impaired.details?.[0]?.statusReason ?? '', /ECONNREFUSED/);
    agent.send({ type: 'health', containerRuntime: 'OK' });
    await waitFor('OK', async () => (await health())?.overallStatus === 'OK');
    agent.send({ type: 'health', containerRuntime: 'SIDEWAYS' });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await health())?.overallStatus, 'OK', 'a malformed health message changes nothing');
    agent.terminate();
  });

  it('an agent that stops answering heartbeats is cut off and marked disconnected', async () => {
    await freshCluster();
    const arn = await registerInstance();
    const { agent } = await connect('host-silent', arn, { autoPong: false });
    assert.equal(await agentConnected(arn), true);
    await agent.waitClosed(DISCONNECT_BOUND_MS);
    await waitFor('agentConnected false', async () => (await agentConnected(arn)) === false, 2_000);
  });

  it('refuses instances it does not know in the welcome', async () => {
    await freshCluster();
    const arn = await registerInstance();
    const unknown = arn.replace(/[0-9a-f]{32}$/, 'f'.repeat(32));
    const s = await FakeAgent.session(server.url, {
      hostId: 'host-refused',
      instances: [{ containerInstanceArn: arn }, { containerInstanceArn: unknown }],
    });
    agents.push(s.agent);
    assert.deepEqual(s.welcome.refusedInstances, [{ containerInstanceArn: unknown, reason: 'MISSING' }]);
    assert.equal(await agentConnected(arn), true);
    s.agent.close();
  });

  it('RunTask reaches the agent; reports are applied once, acknowledged, and not echoed; StopTask follows', async () => {
    await freshCluster();
    const arn = await registerInstance();
    const { agent } = await connect('host-run', arn);
    const taskArn = await runTaskOn();

    const pushed = await agent.next('tasks', { where: (m) => m.tasks.some((t) => t.taskArn === taskArn) });
    assert.equal(pushed.full, false);
    const at = pushed.tasks.find((t) => t.taskArn === taskArn)!;
    assert.equal(at.desiredStatus, 'RUNNING');
    assert.equal(at.containerInstanceArn, arn);
    assert.equal(at.taskDefinition.family, 'gw-web');
    assert.deepEqual(Object.keys(at.containerArns).sort(), ['side', 'web']);

    const report = {
      taskArn,
      status: 'RUNNING',
      startedAt: Date.now() / 1000,
      containers: [
        { containerName: 'web', status: 'RUNNING', runtimeId: 'c1' },
        { containerName: 'side', status: 'RUNNING', runtimeId: 'c2' },
      ],
    };
    agent.send({ type: 'report', id: 'r1', change: report });
    assert.deepEqual(await agent.next('ack', { where: (a) => a.id === 'r1' }), {
      type: 'ack',
      id: 'r1',
      applied: true,
    });
    const running = await describeTask(taskArn);
    assert.equal(running.lastStatus, 'RUNNING');
    assert.deepEqual(
      running.containers?.map((c) => c.lastStatus),
      ['RUNNING', 'RUNNING'],
    );

    // The same report again (the agent resends what it has no ack for): acknowledged, no second effect.
    agent.send({ type: 'report', id: 'r1', change: report });
    assert.equal((await agent.next('ack', { where: (a) => a.id === 'r1' })).applied, true);
    assert.deepEqual(await describeTask(taskArn), running);
    assert.deepEqual(await agent.quiet('tasks', 300), [], 'the reports came back as tasks messages');

    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn, reason: 'test over' }));
    const stop = await agent.next('tasks', { where: (m) => m.tasks.some((t) => t.taskArn === taskArn) });
    const st = stop.tasks.find((t) => t.taskArn === taskArn)!;
    assert.equal(st.desiredStatus, 'STOPPED');
    assert.equal(st.stoppedReason, 'test over');
    assert.ok(st.version > at.version);
    agent.close();
  });

  it('a reconnect gets the full task list again; a newer session replaces the older one', async () => {
    await freshCluster();
    const arn = await registerInstance();
    const first = await connect('host-re', arn);
    const taskArn = await runTaskOn();
    await first.agent.next('tasks', { where: (m) => m.tasks.some((t) => t.taskArn === taskArn) });
    first.agent.terminate();

    const second = await connect('host-re', arn);
    assert.equal(second.tasks.full, true);
    assert.deepEqual(
      second.tasks.tasks.map((t) => t.taskArn),
      [taskArn],
    );

    // A third connection of the same host while the second is open: the second is closed, the instance stays connected.
    const third = await connect('host-re', arn);
    assert.equal((await second.agent.waitClosed(2_000)).code, 4000);
    assert.deepEqual(
      third.tasks.tasks.map((t) => t.taskArn),
      [taskArn],
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await agentConnected(arn), true);

    // Once stopped and reported, the task is no longer in a full sync.
    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
    third.agent.send({
      type: 'report',
      id: 'stop-1',
      change: {
        taskArn,
        status: 'STOPPED',
        stopCode: 'UserInitiated',
        containers: [
          { containerName: 'web', status: 'STOPPED', exitCode: 0 },
          { containerName: 'side', status: 'STOPPED', exitCode: 0 },
        ],
      },
    });
    assert.equal((await third.agent.next('ack', { where: (a) => a.id === 'stop-1' })).applied, true);
    assert.equal((await describeTask(taskArn)).lastStatus, 'STOPPED');
    third.agent.terminate();
    const fourth = await connect('host-re', arn);
    assert.deepEqual(fourth.tasks.tasks, []);
    fourth.agent.close();
  });

  it('FARGATE tasks go to the session of a host serving managed capacity', async () => {
    await freshCluster();
    const s = await FakeAgent.session(server.url, {
      hostId: 'host-managed',
      instances: [],
      managed: { cpu: 4096, memory: 8192, availabilityZone: 'local-1a' },
    });
    agents.push(s.agent);
    const r = await ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: 'gw-fargate',
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0123'] } },
      }),
    );
    assert.deepEqual(r.failures, []);
    const taskArn = r.tasks![0]!.taskArn!;
    const pushed = await s.agent.next('tasks', { where: (m) => m.tasks.some((t) => t.taskArn === taskArn) });
    const t = pushed.tasks.find((x) => x.taskArn === taskArn)!;
    assert.equal(t.launchType, 'FARGATE');
    assert.deepEqual(t.awsvpcConfiguration?.subnets, ['subnet-0123']);
    s.agent.close();
  });

  it('berth logs: 404 for an unknown task, the agent’s output relayed, 503 once the host is gone', async () => {
    await freshCluster();
    const arn = await registerInstance();
    const { agent } = await connect('host-logs', arn);
    const taskArn = await runTaskOn();
    const id = taskArn.split('/').pop()!;
    const base = `${server.url}/berth/v1/logs?cluster=${CLUSTER}`;

    const unknown = await fetch(`${base}&task=0123456789abcdef0123456789abcdef`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { __type: string }).__type, 'InvalidParameterException');

    const response = fetch(`${base}&task=${id}&tail=10`);
    const open = await agent.next('logs-open');
    assert.deepEqual(
      { taskArn: open.taskArn, follow: open.follow, tail: open.tail },
      { taskArn, follow: false, tail: 10 },
    );
    agent.send({
      type: 'logs-data',
      streamId: open.streamId,
      containerName: 'web',
      stream: 'stdout',
      data: 'GET / 200\n',
    });
    agent.send({
      type: 'logs-data',
      streamId: open.streamId,
      containerName: 'side',
      stream: 'stderr',
      data: 'zzz\n',
    });
    agent.send({ type: 'logs-end', streamId: open.streamId });
    const ok = await response;
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'web | GET / 200\nside | zzz\n');

    const one = fetch(`${base}&task=${taskArn}&container=web&follow=true`);
    const open2 = await agent.next('logs-open');
    assert.equal(open2.containerName, 'web');
    agent.send({
      type: 'logs-data',
      streamId: open2.streamId,
      containerName: 'web',
      stream: 'stdout',
      data: 'a\n',
    });
    const followed = await one;
    const reader = followed.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'a\n');
    await reader.cancel();
    await agent.next('logs-close', { where: (m) => m.streamId === open2.streamId });

    agent.terminate();
    await waitFor(
      'agentConnected false',
      async () => (await agentConnected(arn)) === false,
      DISCONNECT_BOUND_MS,
    );
    const gone = await fetch(`${base}&task=${id}`);
    assert.equal(gone.status, 503);
    assert.match(((await gone.json()) as { message: string }).message, /is not connected/);
  });

  it('after a SIGKILL of the server, instances show disconnected until their agents reconnect', async () => {
    await freshCluster();
    const arn = await registerInstance();
    const { agent } = await connect('host-crash', arn);
    const taskArn = await runTaskOn();
    await agent.next('tasks', { where: (m) => m.tasks.some((t) => t.taskArn === taskArn) });
    assert.equal(await agentConnected(arn), true);

    await server.kill('SIGKILL');
    await agent.waitClosed(2_000);
    server = await startBerthServer({ env, dataDir });
    ecs = ecsClient(server.url);
    assert.equal(await agentConnected(arn), false);

    const back = await connect('host-crash', arn);
    assert.deepEqual(
      back.tasks.tasks.map((t) => t.taskArn),
      [taskArn],
    );
    assert.equal(await agentConnected(arn), true);
    back.agent.close();
  });
});
