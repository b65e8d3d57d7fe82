// A host declared lost whose agent comes back: a real control plane (BerthServer in process) and a
// real BerthAgent on the fake container runtime. While the agent is away its task is marked
// STOPPED by the control plane; when it returns, the full sync no longer lists the task and the
// agent stops the container it had left running. Nothing is released twice.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { BerthAgent } from '../../src/agent/agent.js';
import { parseAgentConfig } from '../../src/agent/config.js';
import { EcsApiClient } from '../../src/agent/ecs-api.js';
import { PAUSE_IMAGE } from '../../src/agent/network/pause-image.js';
import { FakeRuntime } from '../../src/agent/runtime/fake-runtime.js';
import { parseServerConfig } from '../../src/config/server-config.js';
import { parseControllerConfig } from '../../src/controllers/config.js';
import { parseGatewayConfig } from '../../src/gateway/config.js';
import { waitFor } from '../../src/gateway/fake-agent.js';
import { BerthServer } from '../../src/server/berth-server.js';

const LOST_AFTER_MS = 1_000;
const log = pino({ level: 'silent' });
const dirs: string[] = [];
const tmp = (what: string): string => {
  const d = mkdtempSync(join(tmpdir(), `berth-${what}-`));
  dirs.push(d);
  return d;
};
let server: BerthServer | undefined;
const agents: BerthAgent[] = [];

after(async () => {
  for (const a of agents) await a.stop();
  await server?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a lost host that comes back', () => {
  it('stops the containers of the tasks the control plane stopped while it was away', async () => {
    server = new BerthServer(
      parseServerConfig({ port: '0', dataDir: tmp('server'), logLevel: 'silent' }, {}),
      undefined,
      log,
      parseGatewayConfig({
        BERTH_AGENT_HEARTBEAT_INTERVAL_MS: '100',
        BERTH_AGENT_HEARTBEAT_TIMEOUT_MS: '1000',
      }),
      parseControllerConfig({ BERTH_INSTANCE_LOST_AFTER_MS: String(LOST_AFTER_MS) }),
    );
    const url = await server.start();
    const api = new EcsApiClient({ endpoint: url, region: 'us-east-1' });
    await api.call('CreateCluster', { clusterName: 'away' });
    await api.call('RegisterTaskDefinition', {
      family: 'sleeper',
      containerDefinitions: [{ name: 'app', image: 'img/app:1', memory: 64, cpu: 256, stopTimeout: 1 }],
    });

    const rt = new FakeRuntime({ cpus: 2, memoryBytes: 2048 * 1024 * 1024 });
    rt.addImage(PAUSE_IMAGE);
    rt.addImage('img/app:1');
    const agentDir = tmp('agent');
    const config = parseAgentConfig(
      {
        endpoint: url,
        dataDir: agentDir,
        cluster: 'away',
        metadataListen: '127.0.0.1:0',
        reconnectMinMs: 50,
        reconnectMaxMs: 200,
        stateFlushDelayMs: 5,
        logLevel: 'silent',
      },
      {},
    );
    const a1 = new BerthAgent(config, { runtime: rt, log });
    agents.push(a1);
    await a1.start();
    const instanceArn = a1.containerInstanceArn!;
    const describeInstance = async () =>
      (await api.call('DescribeContainerInstances', { cluster: 'away', containerInstances: [instanceArn] }))
        .containerInstances![0]!;
    const describeTask = async (arn: string) =>
      (await api.call('DescribeTasks', { cluster: 'away', tasks: [arn] })).tasks![0]!;
    await waitFor('agent connected', async () => (await describeInstance()).agentConnected === true);

    const run = await api.call('RunTask', { cluster: 'away', taskDefinition: 'sleeper' });
    const taskArn = run.tasks![0]!.taskArn!;
    const running = await waitFor('task RUNNING', async () => {
      const t = await describeTask(taskArn);
      return t.lastStatus === 'RUNNING' ? t : undefined;
    });
    const dockerId = running.containers![0]!.runtimeId!;

    // The agent goes away (its containers keep running, as after a crash or a partition).
    await a1.stop();
    agents.splice(agents.indexOf(a1), 1);
    await waitFor('agent disconnected', async () => (await describeInstance()).agentConnected === false);
    const stopped = await waitFor(
      'task STOPPED by the control plane',
      async () => {
        const t = await describeTask(taskArn);
        return t.lastStatus === 'STOPPED' ? t : undefined;
      },
      LOST_AFTER_MS + 5_000,
    );
    assert.equal(stopped.stopCode, 'InfrastructureHealth');
    assert.equal((await rt.inspectContainer(dockerId)).status, 'running', 'nobody told the host yet');
    const lost = await describeInstance();
    assert.deepEqual(lost.remainingResources, lost.registeredResources);

    // It comes back: the container of the stopped task is stopped.
    const a2 = new BerthAgent(config, { runtime: rt, log });
    agents.push(a2);
    await a2.start();
    assert.equal(a2.containerInstanceArn, instanceArn);
    await waitFor('connected again', async () => (await describeInstance()).agentConnected === true);
    await waitFor('container stopped by the agent', async () => {
      try {
        return (await rt.inspectContainer(dockerId)).status !== 'running';
      } catch {
        return true; // already removed
      }
    });
    // The agent's own STOPPED report changes neither the stop code nor the resources.
    await new Promise((r) => setTimeout(r, 300));
    const final = await describeTask(taskArn);
    assert.equal(final.stopCode, 'InfrastructureHealth');
    assert.equal(final.stoppedReason, stopped.stoppedReason);
    const back = await describeInstance();
    assert.deepEqual(back.remainingResources, back.registeredResources, 'released once, not twice');
    assert.equal(back.runningTasksCount, 0);
  });
});
