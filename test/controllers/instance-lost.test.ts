// The instance health controller inside a real `berth server`, driven through the ECS API and by
// the scripted agent: an agent gone for longer than BERTH_INSTANCE_LOST_AFTER_MS loses its tasks
// (STOPPED by the control plane, resources back); a shorter disconnect changes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateClusterCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type ContainerInstance,
  type ECSClient,
  type Task,
} from '@aws-sdk/client-ecs';
import { FakeAgent, waitFor } from '../../src/gateway/fake-agent.js';
import {
  ECS_TARGET,
  ecsClient,
  rawCall,
  startBerthServer,
  type BerthProcess,
} from '../support/berth-process.js';

const LOST_AFTER_MS = 2_000;
const env = {
  BERTH_AGENT_HEARTBEAT_INTERVAL_MS: '100',
  BERTH_AGENT_HEARTBEAT_TIMEOUT_MS: '600',
  BERTH_INSTANCE_LOST_AFTER_MS: String(LOST_AFTER_MS),
};
/** Disconnect detection, the timeout, and slack for a loaded machine. */
const LOST_BOUND_MS = LOST_AFTER_MS + 4_000;

let server: BerthProcess;
let ecs: ECSClient;
const agents: FakeAgent[] = [];
let CLUSTER = 'lost';
let clusters = 0;

async function freshCluster(): Promise<void> {
  CLUSTER = `lost-${++clusters}`;
  await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
}

before(async () => {
  server = await startBerthServer({ env });
  ecs = ecsClient(server.url);
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'lost-web',
      containerDefinitions: [
        {
          name: 'web',
          image: 'busybox',
          memory: 256,
          cpu: 512,
          command: ['httpd', '-f'],
          portMappings: [{ containerPort: 80, hostPort: 8080 }],
        },
      ],
    }),
  );
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'lost-fargate',
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
  await server?.stop();
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

async function describeInstance(arn: string): Promise<ContainerInstance> {
  const r = await ecs.send(
    new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [arn] }),
  );
  return r.containerInstances![0]!;
}

async function describeTask(arn: string): Promise<Task> {
  const r = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }));
  assert.equal(r.failures?.length ?? 0, 0, JSON.stringify(r.failures));
  return r.tasks![0]!;
}

const amount = (ci: ContainerInstance, name: string, which: 'remainingResources' | 'registeredResources') =>
  ci[which]?.find((r) => r.name === name);

async function connect(hostId: string, instanceArn: string) {
  const s = await FakeAgent.session(server.url, {
    hostId,
    instances: [{ containerInstanceArn: instanceArn }],
  });
  agents.push(s.agent);
  return s;
}

/** RunTask, the fake agent gets it and reports it RUNNING. */
async function runningTask(agent: FakeAgent, id: string): Promise<string> {
  const r = await ecs.send(
    new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'lost-web', launchType: 'EC2' }),
  );
  assert.deepEqual(r.failures, []);
  const taskArn = r.tasks![0]!.taskArn!;
  await agent.next('tasks', { where: (m) => m.tasks.some((t) => t.taskArn === taskArn) });
  agent.send({
    type: 'report',
    id,
    change: {
      taskArn,
      status: 'RUNNING',
      startedAt: Date.now() / 1000,
      containers: [{ containerName: 'web', status: 'RUNNING', runtimeId: `c-${id}` }],
    },
  });
  assert.equal((await agent.next('ack', { where: (a) => a.id === id })).applied, true);
  assert.equal((await describeTask(taskArn)).lastStatus, 'RUNNING');
  return taskArn;
}

describe('instance health in berth server', () => {
  it('an agent gone longer than the timeout: its task is STOPPED by the control plane and the resources come back', async () => {
    await freshCluster();
    const arn = await registerInstance();
    const { agent } = await connect('host-lost', arn);
    const taskArn = await runningTask(agent, 'r1');
    const reserved = await describeInstance(arn);
    assert.equal(amount(reserved, 'CPU', 'remainingResources')?.integerValue, 2048 - 512);
    assert.equal(reserved.runningTasksCount, 1);

    const cutAt = Date.now();
    agent.terminate();
    await waitFor('agentConnected false', async () => (await describeInstance(arn)).agentConnected === false);
    const stopped = await waitFor(
      'the task STOPPED',
      async () => {
        const t = await describeTask(taskArn);
        return t.lastStatus === 'STOPPED' ? t : undefined;
      },
      LOST_BOUND_MS,
      100,
    );
    assert.equal(stopped.desiredStatus, 'STOPPED');
    assert.equal(stopped.stopCode, 'InfrastructureHealth');
    const id = arn.split('/').pop()!;
    assert.equal(
      stopped.stoppedReason,
      `Container instance ${id} lost: its agent has been disconnected for more than 2 seconds.`,
    );
    assert.ok(
      stopped.stoppedAt!.getTime() >= cutAt + LOST_AFTER_MS,
      `stopped ${stopped.stoppedAt!.getTime() - cutAt} ms after the cut, before the timeout`,
    );
    assert.deepEqual(
      stopped.containers?.map((c) => c.lastStatus),
      ['STOPPED'],
    );

    const after = await describeInstance(arn);
    assert.equal(after.status, 'ACTIVE', 'still registered');
    assert.equal(after.agentConnected, false);
    assert.equal(after.runningTasksCount, 0);
    assert.equal(after.pendingTasksCount, 0);
    assert.deepEqual(after.remainingResources, after.registeredResources);

    // The internal disconnect time never reaches the wire.
    const raw = await rawCall(
      server.url,
      `${ECS_TARGET}.DescribeContainerInstances`,
      JSON.stringify({ cluster: CLUSTER, containerInstances: [arn] }),
    );
    assert.equal(raw.status, 200);
    assert.doesNotMatch(JSON.stringify(raw.json), /berth|disconnectedAt/);

    // The agent comes back: the stopped task is no longer its to run (it stops what it still has).
    const back = await connect('host-lost', arn);
    assert.deepEqual(back.tasks.tasks, []);
    assert.equal((await describeInstance(arn)).agentConnected, true);
    back.agent.close();
  });

  it('a disconnect shorter than the timeout changes nothing', async () => {
    await freshCluster();
    const arn = await registerInstance();
    const { agent } = await connect('host-brief', arn);
    const taskArn = await runningTask(agent, 'b1');
    const before = await describeTask(taskArn);

    agent.terminate();
    await waitFor('agentConnected false', async () => (await describeInstance(arn)).agentConnected === false);
    await new Promise((r) => setTimeout(r, LOST_AFTER_MS / 4));
    const back = await connect('host-brief', arn);
    assert.deepEqual(
      back.tasks.tasks.map((t) => t.taskArn),
      [taskArn],
      'the full sync still lists the task',
    );
    // Well past the moment the first disconnect would have made the host lost.
    await new Promise((r) => setTimeout(r, LOST_AFTER_MS + 1_000));
    assert.deepEqual(await describeTask(taskArn), before);
    const ci = await describeInstance(arn);
    assert.equal(ci.agentConnected, true);
    assert.equal(ci.runningTasksCount, 1);
    assert.equal(amount(ci, 'CPU', 'remainingResources')?.integerValue, 2048 - 512);
    assert.deepEqual(await back.agent.quiet('tasks', 0), [], 'nothing was sent to stop it');
    back.agent.close();
  });

  it('a lost managed host: its FARGATE task is STOPPED the same way', async () => {
    await freshCluster();
    const s = await FakeAgent.session(server.url, {
      hostId: 'host-managed-lost',
      instances: [],
      managed: { cpu: 4096, memory: 8192, availabilityZone: 'local-1a' },
    });
    agents.push(s.agent);
    const r = await ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: 'lost-fargate',
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0123'] } },
      }),
    );
    assert.deepEqual(r.failures, []);
    const taskArn = r.tasks![0]!.taskArn!;
    await s.agent.next('tasks', { where: (m) => m.tasks.some((t) => t.taskArn === taskArn) });
    s.agent.send({
      type: 'report',
      id: 'f1',
      change: { taskArn, status: 'RUNNING', containers: [{ containerName: 'app', status: 'RUNNING' }] },
    });
    assert.equal((await s.agent.next('ack', { where: (a) => a.id === 'f1' })).applied, true);

    s.agent.terminate();
    const stopped = await waitFor(
      'the FARGATE task STOPPED',
      async () => {
        const t = await describeTask(taskArn);
        return t.lastStatus === 'STOPPED' ? t : undefined;
      },
      LOST_BOUND_MS,
      100,
    );
    assert.equal(stopped.stopCode, 'InfrastructureHealth');
    assert.equal(
      stopped.stoppedReason,
      'Host host-managed-lost lost: its agent has been disconnected for more than 2 seconds.',
    );
    assert.equal(stopped.attachments?.[0]?.status, 'DELETED');
  });
});
