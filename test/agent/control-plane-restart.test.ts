// The control plane killed with SIGKILL while tasks run: after it restarts on the same data dir
// every task is known, the agent reconnects by itself, nothing was restarted or duplicated, and
// the restored session still carries orders (StopTask) and reports (STOPPED).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeContainerInstancesCommand,
  ListTasksCommand,
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

const cluster = `cp-restart-${runId}`;
const network = `berth-it-cpr-${runId}`;
const subnet = '198.19.43.0/24';
let server: BerthProcess;
let agent: AgentProcess;
let ecs: ECSClient;
let serverDataDir = '';

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
  removeDir(agent.dataDir);
  if (serverDataDir) removeDir(serverDataDir);
});

describe('control plane killed while tasks run', () => {
  it('after a SIGKILL and restart every task is known, the agent reconnects, and the session works', async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'it-cp-restart',
        // An init process forwards SIGTERM, so StopTask does not wait out the 30 s stop timeout.
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
    const run = await ecs.send(new RunTaskCommand({ cluster, taskDefinition: 'it-cp-restart', count: 3 }));
    assert.deepEqual(run.failures, []);
    const arns = run.tasks!.map((t) => t.taskArn!);
    const before = new Map<string, string>();
    for (const arn of arns) {
      const t = await waitForStatus(ecs, cluster, arn, 'RUNNING', 30_000, agent);
      before.set(arn, t.containers![0]!.runtimeId!);
    }
    const instanceArn = (await waitForInstance(ecs, cluster, agent)) ?? '';

    await server.kill('SIGKILL');
    // The containers do not depend on the control plane.
    for (const id of before.values()) assert.equal((await inspect(id)).State.Running, true);

    server = await startBerthServer({ dataDir: serverDataDir, port: server.port });
    ecs = ecsClient(server.url);
    // Every task is known again, from the store alone.
    const listed = await ecs.send(new ListTasksCommand({ cluster }));
    assert.deepEqual([...(listed.taskArns ?? [])].sort(), [...arns].sort());
    // The agent comes back by itself (back-off) and its instance shows connected.
    await waitFor(
      'agent reconnected',
      async () => {
        const d = await ecs.send(
          new DescribeContainerInstancesCommand({ cluster, containerInstances: [instanceArn] }),
        );
        return d.containerInstances?.[0]?.agentConnected === true;
      },
      30_000,
    );
    for (const arn of arns) {
      const t = await waitForStatus(ecs, cluster, arn, 'RUNNING', 10_000, agent);
      assert.equal(t.containers![0]!.runtimeId, before.get(arn), 'same container, not restarted');
      const list = await docker.listContainers({
        all: true,
        filters: JSON.stringify({ label: [`com.amazonaws.ecs.task-arn=${arn}`] }),
      });
      assert.equal(list.length, 1, 'no duplicate container');
    }

    // Orders and reports flow through the restored session.
    await ecs.send(new StopTaskCommand({ cluster, task: arns[0]!, reason: 'after the restart' }));
    const stopped = await waitForStatus(ecs, cluster, arns[0]!, 'STOPPED', 30_000, agent);
    assert.equal(stopped.stopCode, 'UserInitiated');
    assert.equal(stopped.stoppedReason, 'after the restart');
    assert.equal((await inspect(before.get(arns[0]!)!)).State.Running, false);
  });
});
