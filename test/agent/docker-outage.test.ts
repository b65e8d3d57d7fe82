// The Docker engine stopped under a running agent: the instance reports its container runtime
// IMPAIRED, the task whose container died with the engine ends STOPPED with a reason, and when
// the engine returns the instance is OK again and new tasks run. The test runs its own dockerd
// (own socket, data root and bridge), so stopping it touches nothing else on the machine.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import {
  DescribeContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type ContainerInstanceHealthStatus,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { ecsClient, startBerthServer, type BerthProcess } from '../support/berth-process.js';
import { busyboxImage, ensureBusyboxImage } from '../support/images.js';
import {
  createCluster,
  removeDir,
  runId,
  startAgentProcess,
  waitFor,
  waitForInstance,
  waitForStatus,
  type AgentProcess,
} from './agent-harness.js';

const cluster = `docker-outage-${runId}`;
const bridge = `berthdk${runId.slice(0, 4)}`;
const bridgeCidr = '198.18.250.1/24';
const dir = mkdtempSync(join(tmpdir(), 'berth-dockerd-'));
const socket = join(dir, 'docker.sock');
let dockerd: ChildProcess | undefined;
let dockerdLog = '';
let server: BerthProcess;
let agent: AgentProcess;
let ecs: ECSClient;
let instanceArn = '';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

async function startDockerd(): Promise<void> {
  dockerd = spawn(
    'dockerd',
    [
      '--host',
      `unix://${socket}`,
      '--data-root',
      join(dir, 'root'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'docker.pid'),
      '--bridge',
      bridge,
      '--iptables=false',
      '--ip-masq=false',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  dockerd.stdout?.on('data', (d: Buffer) => (dockerdLog += d.toString()));
  dockerd.stderr?.on('data', (d: Buffer) => (dockerdLog += d.toString()));
  const docker = new Dockerode({ socketPath: socket });
  await waitFor(
    'private dockerd answering',
    async () => (await docker.ping()) !== undefined,
    30_000,
    200,
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}\ndockerd output:\n${dockerdLog.slice(-3000)}`);
  });
}

async function stopDockerd(): Promise<void> {
  const d = dockerd;
  if (!d || d.exitCode !== null || d.signalCode !== null) return;
  const exited = new Promise<void>((res) => d.once('exit', () => res()));
  d.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
  if (d.exitCode === null && d.signalCode === null) {
    d.kill('SIGKILL');
    await exited;
  }
}

async function runtimeHealth(): Promise<ContainerInstanceHealthStatus | undefined> {
  const d = await ecs.send(
    new DescribeContainerInstancesCommand({
      cluster,
      containerInstances: [instanceArn],
      include: ['CONTAINER_INSTANCE_HEALTH'],
    }),
  );
  return d.containerInstances?.[0]?.healthStatus;
}

async function runOne(): Promise<string> {
  const r = await ecs.send(new RunTaskCommand({ cluster, taskDefinition: 'it-outage' }));
  assert.deepEqual(r.failures, []);
  return r.tasks![0]!.taskArn!;
}

before(async () => {
  ip('link', 'add', bridge, 'type', 'bridge');
  ip('addr', 'add', bridgeCidr, 'dev', bridge);
  ip('link', 'set', bridge, 'up');
  await startDockerd();
  await ensureBusyboxImage(new Dockerode({ socketPath: socket }));
  server = await startBerthServer();
  ecs = ecsClient(server.url);
  await createCluster(ecs, cluster);
  agent = startAgentProcess({
    endpoint: server.url,
    cluster,
    taskSubnet: '198.19.45.0/24',
    taskNetwork: `berth-it-out-${runId}`,
    extraArgs: ['--docker-socket', socket],
  });
  instanceArn = await waitForInstance(ecs, cluster, agent);
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'it-outage',
      networkMode: 'host',
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
});

after(async () => {
  await agent?.kill();
  await server?.stop();
  if (dockerd && dockerd.exitCode === null) {
    // Remove what the test ran before the engine goes, so nothing is left in its data root.
    const docker = new Dockerode({ socketPath: socket });
    for (const c of await docker.listContainers({ all: true }).catch(() => [])) {
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    }
  }
  await stopDockerd();
  try {
    ip('link', 'del', bridge);
  } catch {
    // already gone
  }
  // dockerd leaves its default netns bind-mounted under the exec root.
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(dir))
    .reverse();
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // not mounted any more
    }
  }
  removeDir(dir);
  removeDir(agent?.dataDir ?? '');
});

describe('the Docker engine stops and returns', () => {
  it('reports the runtime IMPAIRED, stops the task that died with it, and recovers', async () => {
    const first = await runOne();
    await waitForStatus(ecs, cluster, first, 'RUNNING', 30_000, agent);
    await waitFor('runtime OK', async () => (await runtimeHealth())?.overallStatus === 'OK', 10_000);

    await stopDockerd();
    const impaired = await waitFor(
      'runtime IMPAIRED',
      async () => {
        const h = await runtimeHealth();
        return h?.overallStatus === 'IMPAIRED' ? h : undefined;
      },
      20_000,
    );
    assert.equal(impaired.details?.[0]?.type, 'CONTAINER_RUNTIME');
    assert.match(impaired.details?.[0]?.statusReason ?? '', /Docker/);

    await startDockerd();
    await waitFor('runtime OK again', async () => (await runtimeHealth())?.overallStatus === 'OK', 30_000);
    // The engine stopped the task's container on its way down: the task ends, with a reason.
    const stopped = await waitForStatus(ecs, cluster, first, 'STOPPED', 30_000, agent);
    assert.equal(stopped.stopCode, 'EssentialContainerExited');
    assert.ok(stopped.stoppedReason, 'a stopped reason');
    assert.notEqual(stopped.containers?.[0]?.exitCode, undefined);

    // And the host runs new work.
    const second = await runOne();
    await waitForStatus(ecs, cluster, second, 'RUNNING', 30_000, agent);
  });
});
