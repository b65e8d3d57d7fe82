// `berth agent` with real Docker and a real `berth server`: tasks become containers, and
// DescribeTasks tells the truth about them (running, limits, ports, stops, failures).
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ContainerDefinition,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { ecsClient, startBerthServer, type BerthProcess } from '../support/berth-process.js';
import { busyboxImage, ensureBusyboxImage, startTestRegistry, type TestRegistry } from '../support/images.js';
import {
  createCluster,
  docker,
  httpGet,
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

const cluster = `agent-life-${runId}`;
const network = `berth-it-life-${runId}`;
let server: BerthProcess;
let agent: AgentProcess;
let ecs: ECSClient;
let registry: TestRegistry;

async function runTask(
  family: string,
  containers: ContainerDefinition[],
  extra: Record<string, unknown> = {},
): Promise<string> {
  await ecs.send(new RegisterTaskDefinitionCommand({ family, containerDefinitions: containers, ...extra }));
  const out = await ecs.send(new RunTaskCommand({ cluster, taskDefinition: family }));
  const arn = out.tasks?.[0]?.taskArn;
  if (!arn) throw new Error(`RunTask placed nothing: ${JSON.stringify(out.failures)}`);
  return arn;
}

before(async () => {
  await ensureBusyboxImage();
  registry = await startTestRegistry({ repositories: ['berth/present'] });
  server = await startBerthServer();
  ecs = ecsClient(server.url);
  await createCluster(ecs, cluster);
  agent = startAgentProcess({
    endpoint: server.url,
    cluster,
    taskSubnet: '198.19.40.0/24',
    taskNetwork: network,
  });
  await waitForInstance(ecs, cluster, agent);
});

after(async () => {
  await agent?.kill();
  await server?.stop();
  await registry?.close();
  await sweep([cluster], [network]);
  if (agent) removeDir(agent.dataDir);
});

describe('berth agent: task lifecycle on Docker', () => {
  it('RunTask → RUNNING with the container really running, its limits in docker inspect; StopTask → STOPPED (UserInitiated)', async () => {
    const arn = await runTask(
      'it-sleep',
      [
        {
          name: 'app',
          image: busyboxImage,
          cpu: 128,
          memory: 64,
          memoryReservation: 32,
          command: ['sleep', '3600'],
          linuxParameters: { initProcessEnabled: true },
          dockerLabels: { team: 'berth' },
        },
      ],
      { cpu: '512', memory: '256' },
    );
    const running = await waitForStatus(ecs, cluster, arn, 'RUNNING', 30_000, agent);
    const c = running.containers![0]!;
    assert.equal(c.lastStatus, 'RUNNING');
    const info = await inspect(c.runtimeId!);
    assert.equal(info.State.Running, true);
    assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(info.HostConfig.MemoryReservation, 32 * 1024 * 1024);
    assert.equal(info.HostConfig.CpuShares, 128);
    assert.equal(info.HostConfig.NanoCpus, 500_000_000);
    assert.equal(info.HostConfig.Init, true);
    assert.equal(info.Config.Labels['com.amazonaws.ecs.task-arn'], arn);
    assert.equal(info.Config.Labels['com.amazonaws.ecs.container-name'], 'app');
    assert.equal(info.Config.Labels['com.amazonaws.ecs.cluster'], cluster);
    assert.equal(info.Config.Labels['com.amazonaws.ecs.task-definition-family'], 'it-sleep');
    assert.equal(info.Config.Labels.team, 'berth');
    assert.match(info.Name, /^\/ecs-it-sleep-1-app-[0-9a-f]{20}$/);
    assert.ok(info.Config.Env.some((e) => e.startsWith('ECS_CONTAINER_METADATA_URI_V4=http')));
    assert.ok(running.startedAt !== undefined && running.pullStartedAt !== undefined);

    await ecs.send(new StopTaskCommand({ cluster, task: arn, reason: 'integration test' }));
    const stopped = await waitForStatus(ecs, cluster, arn, 'STOPPED', 30_000, agent);
    assert.equal(stopped.stopCode, 'UserInitiated');
    assert.equal(stopped.stoppedReason, 'integration test');
    assert.equal(stopped.containers![0]!.lastStatus, 'STOPPED');
    assert.equal((await inspect(c.runtimeId!)).State.Running, false);
  });

  it('bridge: a dynamic host port answers HTTP at the port DescribeTasks reports', async () => {
    const arn = await runTask('it-httpd', [
      {
        name: 'web',
        image: busyboxImage,
        memory: 32,
        entryPoint: ['sh', '-c'],
        command: [
          'mkdir -p /www && echo hello-from-berth > /www/index.html && exec httpd -f -p 8080 -h /www',
        ],
        portMappings: [{ containerPort: 8080 }],
        stopTimeout: 2,
      },
    ]);
    const t = await waitForStatus(ecs, cluster, arn, 'RUNNING', 30_000, agent);
    const binding = t.containers![0]!.networkBindings?.find((b) => b.bindIP === '0.0.0.0');
    assert.equal(binding?.containerPort, 8080);
    assert.ok((binding?.hostPort ?? 0) > 1024);
    const res = await waitFor('HTTP answer', async () => httpGet(`http://127.0.0.1:${binding!.hostPort}/`));
    assert.equal(res.status, 200);
    assert.equal(res.body.trim(), 'hello-from-berth');
    await ecs.send(new StopTaskCommand({ cluster, task: arn }));
    await waitForStatus(ecs, cluster, arn, 'STOPPED', 30_000, agent);
  });

  it('none: loopback only, in a namespace Docker does not network, with the hosts, resolv.conf and hostname Docker would give it', async () => {
    const arn = await runTask(
      'it-none',
      [
        {
          name: 'app',
          image: busyboxImage,
          memory: 32,
          command: ['sleep', '3600'],
          linuxParameters: { initProcessEnabled: true },
          hostname: 'quiet',
          dnsServers: ['192.0.2.53'],
          extraHosts: [{ hostname: 'db', ipAddress: '192.0.2.10' }],
        },
      ],
      { networkMode: 'none' },
    );
    const running = await waitForStatus(ecs, cluster, arn, 'RUNNING', 30_000, agent);
    const id = running.containers![0]!.runtimeId!;
    const info = await inspect(id);
    assert.equal(info.HostConfig.NetworkMode, 'none');
    assert.equal((info.Config as { NetworkDisabled?: boolean }).NetworkDisabled, true);
    const inside = (cmd: string) =>
      execFileSync('docker', ['exec', id, 'sh', '-c', cmd], { encoding: 'utf8' });
    assert.equal(inside('ip -o link | cut -d: -f2 | tr -d " "'), 'lo\n');
    assert.match(inside('ip -o link show lo'), /[<,]UP[,>]/);
    assert.equal(inside('hostname'), 'quiet\n');
    assert.equal(inside('cat /etc/resolv.conf'), 'nameserver 192.0.2.53\n');
    const hosts = inside('cat /etc/hosts');
    assert.match(hosts, /^127\.0\.0\.1\tlocalhost\n/);
    assert.match(hosts, /\n192\.0\.2\.10\tdb\n$/);
    // The task's own copies: written to, as Docker's are, without touching another task's.
    inside('echo "192.0.2.11 cache" >> /etc/hosts');
    assert.match(inside('cat /etc/hosts'), /192\.0\.2\.11 cache/);

    await ecs.send(new StopTaskCommand({ cluster, task: arn, reason: 'integration test' }));
    await waitForStatus(ecs, cluster, arn, 'STOPPED', 30_000, agent);
  });

  it('a container that exits at once: STOPPED, EssentialContainerExited, with its exit code', async () => {
    const arn = await runTask('it-exit', [
      { name: 'app', image: busyboxImage, memory: 32, command: ['sh', '-c', 'exit 3'] },
    ]);
    const t = await waitForStatus(ecs, cluster, arn, 'STOPPED', 30_000, agent);
    assert.equal(t.stopCode, 'EssentialContainerExited');
    assert.equal(t.stoppedReason, 'Essential container in task exited');
    assert.equal(t.containers![0]!.exitCode, 3);
  });

  it('an image that does not exist: STOPPED, TaskFailedToStart, CannotPullContainerError with the registry reason', async () => {
    const arn = await runTask('it-nopull', [
      { name: 'app', image: `${registry.host}/berth/absent:latest`, memory: 32 },
    ]);
    const t = await waitForStatus(ecs, cluster, arn, 'STOPPED', 60_000, agent);
    assert.equal(t.stopCode, 'TaskFailedToStart');
    assert.match(
      t.stoppedReason ?? '',
      /^CannotPullContainerError: .*(name unknown|not known to registry|manifest unknown|not found)/i,
    );
    assert.equal(t.containers![0]!.reason, t.stoppedReason);
    assert.ok(
      registry.requests.some((r) => r.url.includes('berth/absent')),
      'the registry was asked',
    );
  });

  it('docker kill from outside: the task stops with a reason', async () => {
    const arn = await runTask('it-kill', [
      { name: 'app', image: busyboxImage, memory: 32, command: ['sleep', '3600'] },
    ]);
    const t = await waitForStatus(ecs, cluster, arn, 'RUNNING', 30_000, agent);
    await docker.getContainer(t.containers![0]!.runtimeId!).kill();
    const stopped = await waitForStatus(ecs, cluster, arn, 'STOPPED', 30_000, agent);
    assert.equal(stopped.stopCode, 'EssentialContainerExited');
    assert.equal(stopped.stoppedReason, 'Essential container in task exited');
    assert.equal(stopped.containers![0]!.exitCode, 137);
  });

  it('dependsOn and health checks: the app starts after its database is HEALTHY; the task turns HEALTHY', async () => {
    const arn = await runTask('it-deps', [
      {
        name: 'db',
        image: busyboxImage,
        memory: 32,
        command: ['sh', '-c', 'touch /ready; exec sleep 3600'],
        healthCheck: {
          command: ['CMD-SHELL', 'test -f /ready'],
          interval: 5,
          timeout: 2,
          retries: 1,
          startPeriod: 0,
        },
        linuxParameters: { initProcessEnabled: true },
      },
      {
        name: 'app',
        image: busyboxImage,
        memory: 32,
        command: ['sleep', '3600'],
        dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }],
        linuxParameters: { initProcessEnabled: true },
      },
    ]);
    const t = await waitForStatus(ecs, cluster, arn, 'RUNNING', 45_000, agent);
    const db = t.containers!.find((x) => x.name === 'db')!;
    const app = t.containers!.find((x) => x.name === 'app')!;
    const dbStarted = Date.parse((await inspect(db.runtimeId!)).State.StartedAt);
    const appStarted = Date.parse((await inspect(app.runtimeId!)).State.StartedAt);
    assert.ok(appStarted > dbStarted, 'app started after db');
    const healthy = await waitFor('task HEALTHY', async () => {
      const d = await waitForStatus(ecs, cluster, arn, 'RUNNING', 5000);
      return d.healthStatus === 'HEALTHY' ? d : undefined;
    });
    assert.equal(healthy.containers!.find((x) => x.name === 'db')?.healthStatus, 'HEALTHY');
    await ecs.send(new StopTaskCommand({ cluster, task: arn }));
    await waitForStatus(ecs, cluster, arn, 'STOPPED', 30_000, agent);
  });
});
