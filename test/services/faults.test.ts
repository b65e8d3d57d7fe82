// Services under faults, with real processes and the local Docker engine:
// - the agent killed with SIGKILL and restarted: every service task is kept (same container),
//   none is started twice;
// - the control plane killed with SIGKILL in the middle of a rolling deployment: after a restart
//   on the same data dir the same deployment goes on to the same end state, with no task lost or
//   duplicated.
// (A container killed from outside is in services.test.ts; an instance lost for good is covered
// in-process by src/controllers/service-controller.test.ts with the instance health controller.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type ECSClient,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { ecsClient, startBerthServer, type BerthProcess } from '../support/berth-process.js';
import { busyboxImage, ensureBusyboxImage } from '../support/images.js';
import {
  createCluster,
  docker,
  removeDir,
  runId,
  startAgentProcess,
  sweep,
  waitFor,
  waitForInstance,
  type AgentProcess,
} from '../agent/agent-harness.js';

const cluster = `svc-faults-${runId}`;
const network = `berth-it-svf-${runId}`;
const subnet = '198.19.45.0/24';
let server: BerthProcess;
let agent: AgentProcess;
let ecs: ECSClient;
let serverDataDir = '';

async function service(name: string): Promise<Service> {
  const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [name] }));
  return out.services![0]!;
}

async function tasksOf(name: string, desiredStatus: 'RUNNING' | 'STOPPED' = 'RUNNING'): Promise<Task[]> {
  const arns =
    (await ecs.send(new ListTasksCommand({ cluster, serviceName: name, desiredStatus }))).taskArns ?? [];
  if (arns.length === 0) return [];
  return (await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }))).tasks ?? [];
}

/** Containers Docker runs for the service's tasks (one per task: the task definitions have one container). */
async function runningContainers(name: string): Promise<string[]> {
  const arns = new Set((await tasksOf(name)).map((t) => t.taskArn!));
  const list = await docker.listContainers({
    filters: JSON.stringify({ label: [`com.amazonaws.ecs.cluster=${cluster}`] }),
  });
  return list.filter((c) => arns.has(c.Labels['com.amazonaws.ecs.task-arn'] ?? '')).map((c) => c.Id);
}

async function stable(name: string, desired: number): Promise<Service> {
  return waitFor(
    `service ${name} stable`,
    async () => {
      const s = await service(name);
      return s.deployments?.length === 1 &&
        s.deployments[0]!.rolloutState === 'COMPLETED' &&
        s.runningCount === desired
        ? s
        : undefined;
    },
    90_000,
    250,
  );
}

async function register(family: string, sleep: string): Promise<string> {
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [
        {
          name: 'app',
          image: busyboxImage,
          memory: 32,
          command: ['sleep', sleep],
          linuxParameters: { initProcessEnabled: true },
        },
      ],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

before(async () => {
  await ensureBusyboxImage();
  server = await startBerthServer();
  serverDataDir = server.dataDir;
  ecs = ecsClient(server.url);
  await createCluster(ecs, cluster);
  agent = startAgentProcess({ endpoint: server.url, cluster, taskSubnet: subnet, taskNetwork: network });
  await waitForInstance(ecs, cluster, agent);
});

after(async () => {
  await agent?.kill();
  await server?.kill('SIGKILL');
  await sweep([cluster], [network]);
  if (agent) removeDir(agent.dataDir);
  if (serverDataDir) removeDir(serverDataDir);
});

describe('services under faults', () => {
  it('agent SIGKILL and restart: no service task lost, none duplicated', async () => {
    await register('svf-agent', '3600');
    await ecs.send(
      new CreateServiceCommand({ cluster, serviceName: 'a', taskDefinition: 'svf-agent', desiredCount: 3 }),
    );
    await stable('a', 3);
    const before = (await tasksOf('a')).map((t) => `${t.taskArn} ${t.containers![0]!.runtimeId}`).sort();
    assert.equal(before.length, 3);

    await agent.kill('SIGKILL');
    agent = startAgentProcess({
      endpoint: server.url,
      cluster,
      dataDir: agent.dataDir,
      taskSubnet: subnet,
      taskNetwork: network,
    });
    await waitForInstance(ecs, cluster, agent);
    // Give the scheduler and the agent time to (wrongly) start or stop anything.
    await new Promise((r) => setTimeout(r, 3000));
    await stable('a', 3);
    const afterRestart = (await tasksOf('a'))
      .map((t) => `${t.taskArn} ${t.containers![0]!.runtimeId}`)
      .sort();
    assert.deepEqual(afterRestart, before, 'the same tasks with the same containers');
    assert.deepEqual(await tasksOf('a', 'STOPPED'), [], 'no task was stopped or replaced');
    assert.equal((await runningContainers('a')).length, 3);
  });

  it('control plane SIGKILL mid-deployment: after the restart the same deployment completes', async () => {
    await register('svf-cp', '3600');
    await ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: 'cp',
        taskDefinition: 'svf-cp',
        desiredCount: 4,
        // One task at a time, so the kill lands in the middle.
        deploymentConfiguration: { maximumPercent: 125, minimumHealthyPercent: 100 },
      }),
    );
    await stable('cp', 4);
    const v2 = await register('svf-cp', '3601');
    await ecs.send(new UpdateServiceCommand({ cluster, service: 'cp', taskDefinition: v2 }));
    const target = (await service('cp')).deployments![0]!.id!;
    await waitFor(
      'the first task of the new deployment running',
      async () => (await tasksOf('cp')).some((t) => t.startedBy === target && t.lastStatus === 'RUNNING'),
      30_000,
      100,
    );
    const mid = await service('cp');
    assert.equal(mid.deployments!.length, 2, 'killed in the middle of the deployment');

    await server.kill('SIGKILL');
    server = await startBerthServer({ dataDir: serverDataDir, port: server.port });
    ecs = ecsClient(server.url);

    const done = await stable('cp', 4);
    assert.equal(done.deployments![0]!.id, target, 'the same deployment went on');
    assert.equal(done.deployments![0]!.taskDefinition, v2);
    const live = await tasksOf('cp');
    assert.equal(live.length, 4);
    assert.ok(live.every((t) => t.taskDefinitionArn === v2 && t.lastStatus === 'RUNNING'));
    assert.equal((await runningContainers('cp')).length, 4, 'no duplicate container');
    const stoppedOld = (await tasksOf('cp', 'STOPPED')).filter((t) => t.startedBy !== target);
    assert.equal(stoppedOld.length, 4, 'exactly the four old tasks were replaced');
  });
});
