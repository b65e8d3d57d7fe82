// Kill -9 the agent while tasks run: when it comes back it re-adopts its containers (none
// restarted, none duplicated, none orphaned) and reports what changed while it was away.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { ecsClient, startBerthServer, type BerthProcess } from '../support/berth-process.js';
import { busyboxImage, ensureBusyboxImage } from '../support/images.js';
import {
  createCluster,
  docker,
  inspect,
  removeDir,
  runId,
  startAgentProcess,
  sweep,
  waitFor,
  waitForInstance,
  waitForStatus,
  type AgentProcess,
} from './agent-harness.js';

const cluster = `agent-restart-${runId}`;
const network = `berth-it-rst-${runId}`;
const subnet = '198.19.41.0/24';
let server: BerthProcess;
let agent: AgentProcess;
let ecs: ECSClient;
const dataDirs = new Set<string>();

function start(dataDir?: string): AgentProcess {
  const a = startAgentProcess({
    endpoint: server.url,
    cluster,
    taskSubnet: subnet,
    taskNetwork: network,
    ...(dataDir ? { dataDir } : {}),
  });
  dataDirs.add(a.dataDir);
  return a;
}

async function run(family: string): Promise<string> {
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [
        {
          name: 'app',
          image: busyboxImage,
          memory: 32,
          command: ['sleep', '3600'],
          linuxParameters: { initProcessEnabled: true },
        },
      ],
    }),
  );
  const out = await ecs.send(new RunTaskCommand({ cluster, taskDefinition: family }));
  return out.tasks![0]!.taskArn!;
}

async function containersOf(taskArn: string): Promise<{ id: string; state: string }[]> {
  const list = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`com.amazonaws.ecs.task-arn=${taskArn}`] }),
  });
  return list.map((c) => ({ id: c.Id, state: c.State }));
}

before(async () => {
  await ensureBusyboxImage();
  server = await startBerthServer();
  ecs = ecsClient(server.url);
  await createCluster(ecs, cluster);
  agent = start();
  await waitForInstance(ecs, cluster, agent);
});

after(async () => {
  await agent?.kill();
  await server?.stop();
  await sweep([cluster], [network]);
  for (const d of dataDirs) removeDir(d);
});

describe('berth agent: restarts', () => {
  it('kill -9 while a task runs: after the restart the same container still runs, the task is RUNNING, nothing duplicated', async () => {
    const arn = await run('it-adopt');
    const t = await waitForStatus(ecs, cluster, arn, 'RUNNING', 30_000, agent);
    const id = t.containers![0]!.runtimeId!;
    const startedAt = (await inspect(id)).State.StartedAt;
    const instance = t.containerInstanceArn;

    await agent.kill('SIGKILL');
    assert.equal((await inspect(id)).State.Running, true, 'the container outlives the agent');
    agent = start(agent.dataDir);
    await waitFor(
      'agent connected again',
      async () => agent.output().includes('session with the control plane open'),
      30_000,
    );
    await waitForInstance(ecs, cluster, agent);

    // Give the restarted agent time to (wrongly) act; then check nothing moved.
    await new Promise((r) => setTimeout(r, 1500));
    const after = await waitForStatus(ecs, cluster, arn, 'RUNNING', 5000, agent);
    assert.equal(after.containers![0]!.runtimeId, id);
    assert.equal(after.containerInstanceArn, instance, 'the same container instance');
    const info = await inspect(id);
    assert.equal(info.State.Running, true);
    assert.equal(info.State.StartedAt, startedAt, 'not restarted');
    assert.deepEqual(await containersOf(arn), [{ id, state: 'running' }], 'no duplicate');

    // The re-adopted task is still under control: StopTask stops it.
    await ecs.send(new StopTaskCommand({ cluster, task: arn }));
    const stopped = await waitForStatus(ecs, cluster, arn, 'STOPPED', 30_000, agent);
    assert.equal(stopped.stopCode, 'UserInitiated');
  });

  it('a container that exits while the agent is down: its task is STOPPED after the restart, with the exit code', async () => {
    const arn = await run('it-down');
    const t = await waitForStatus(ecs, cluster, arn, 'RUNNING', 30_000, agent);
    const id = t.containers![0]!.runtimeId!;
    await agent.kill('SIGKILL');
    await docker.getContainer(id).kill({ signal: 'SIGKILL' });
    await waitFor('container exited', async () => !(await inspect(id)).State.Running);
    // The control plane has not heard of it yet.
    assert.equal((await waitForStatus(ecs, cluster, arn, 'RUNNING', 5000)).lastStatus, 'RUNNING');
    agent = start(agent.dataDir);
    const stopped = await waitForStatus(ecs, cluster, arn, 'STOPPED', 30_000, agent);
    assert.equal(stopped.stopCode, 'EssentialContainerExited');
    assert.equal(stopped.containers![0]!.exitCode, 137);
  });
});
