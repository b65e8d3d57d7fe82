// An instance lost for good, with two real `berth agent` processes on the local Docker engine and
// a real `berth server` whose lost-host timeout (BERTH_INSTANCE_LOST_AFTER_MS) is a few seconds.
// A REPLICA service spreads its tasks over both hosts; agent A is killed with SIGKILL and never
// comes back. Past the timeout the control plane marks A's tasks STOPPED (InfrastructureHealth,
// with a reason naming the instance), the service replaces them on B, and nothing is counted
// twice. A's containers keep running on the engine (nobody is there to stop them, as on a host
// cut off from the cluster): the test removes them itself.
// (The same fault with a scripted agent: test/controllers/instance-lost.test.ts.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type ContainerInstance,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { ecsClient, startBerthServer } from '../support/berth-process.js';
import { busyboxImage, ensureBusyboxImage } from '../support/images.js';
import {
  createCluster,
  docker,
  removeDir,
  runId,
  startAgentProcess,
  sweep,
  waitFor,
  type AgentProcess,
} from '../agent/agent-harness.js';

const LOST_AFTER_MS = 3_000;
const DESIRED = 4;
const SERVICE = 'web';
const cluster = `lost-agents-${runId}`;
const LABEL_CLUSTER = 'com.amazonaws.ecs.cluster';
const LABEL_TASK_ARN = 'com.amazonaws.ecs.task-arn';
const LABEL_HOST_ID = 'org.berth.host-id';

/** The two hosts, told apart by zone and by a custom attribute; each has its own network and subnet. */
const hosts = {
  a: { zone: 'us-east-1a', subnet: '198.19.46.0/24', network: `berth-it-lia-${runId}` },
  b: { zone: 'us-east-1b', subnet: '198.19.47.0/24', network: `berth-it-lib-${runId}` },
} as const;
type HostName = keyof typeof hosts;

const idOf = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

interface RunningContainer {
  id: string;
  taskArn: string;
  state: string;
}

/** Containers of this run's cluster that carry the host id label of one agent. */
async function containersOf(hostId: string, all = false): Promise<RunningContainer[]> {
  const list = await docker.listContainers({
    all,
    filters: JSON.stringify({ label: [`${LABEL_CLUSTER}=${cluster}`, `${LABEL_HOST_ID}=${hostId}`] }),
  });
  return list.map((c) => ({ id: c.Id, taskArn: c.Labels[LABEL_TASK_ARN] ?? '', state: c.State }));
}

describe('an instance lost for good, with two real agents', () => {
  it('the lost host’s tasks are STOPPED past the timeout and replaced on the other host, none twice', async (t) => {
    await ensureBusyboxImage();
    const server = await startBerthServer({
      env: { BERTH_INSTANCE_LOST_AFTER_MS: String(LOST_AFTER_MS) },
    });
    const api = ecsClient(server.url);
    // Everything the test makes, undone even when an assertion fails half-way.
    const agents: Partial<Record<HostName, AgentProcess>> = {};
    t.after(async () => {
      await api
        .send(new DeleteServiceCommand({ cluster, service: SERVICE, force: true }))
        .catch(() => undefined);
      for (const a of Object.values(agents)) await a.kill('SIGKILL');
      await server.stop();
      await sweep(
        [cluster],
        Object.values(hosts).map((h) => h.network),
      );
      for (const a of Object.values(agents)) removeDir(a.dataDir);
    });

    /** Appended to timeouts: what the processes said last. */
    const logs = (): string =>
      [
        ...Object.entries(agents).map(([n, a]) => `--- agent ${n}:\n${a.output().slice(-3000)}`),
        `--- server:\n${server.output().slice(-3000)}`,
      ].join('\n');
    const bounded = <T>(what: string, check: () => Promise<T | undefined | false>, ms: number) =>
      waitFor(what, check, ms, 100).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${logs()}`);
      });

    await createCluster(api, cluster);
    for (const [name, h] of Object.entries(hosts) as [HostName, (typeof hosts)[HostName]][]) {
      agents[name] = startAgentProcess({
        endpoint: server.url,
        cluster,
        taskSubnet: h.subnet,
        taskNetwork: h.network,
        // Both agents cannot own 169.254.170.2:80; nothing here reads the metadata endpoint.
        extraArgs: [
          '--availability-zone',
          h.zone,
          '--attribute',
          `berth.test.host=${name}`,
          '--metadata-listen',
          '127.0.0.1:0',
        ],
      });
    }
    const agentA = agents.a!;
    const agentB = agents.b!;

    const describeInstances = async (): Promise<ContainerInstance[]> => {
      const arns = (await api.send(new ListContainerInstancesCommand({ cluster }))).containerInstanceArns;
      if (!arns?.length) return [];
      return (
        (await api.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: arns })))
          .containerInstances ?? []
      );
    };
    const hostOf = (ci: ContainerInstance): string | undefined =>
      ci.attributes?.find((a) => a.name === 'berth.test.host')?.value;
    const instances = await bounded(
      'both agents registered and connected',
      async () => {
        const all = await describeInstances();
        return all.length === 2 && all.every((ci) => ci.agentConnected === true) ? all : undefined;
      },
      30_000,
    );
    const arnOf = (name: HostName): string => {
      const ci = instances.find((c) => hostOf(c) === name);
      assert.ok(ci, `no container instance with berth.test.host=${name}`);
      assert.equal(ci.attributes?.find((a) => a.name === 'ecs.availability-zone')?.value, hosts[name].zone);
      return ci.containerInstanceArn!;
    };
    const arnA = arnOf('a');
    const arnB = arnOf('b');
    const hostIdA = agentA.hostId();
    const hostIdB = agentB.hostId();
    assert.notEqual(hostIdA, hostIdB);
    const describeInstance = async (arn: string): Promise<ContainerInstance> =>
      (await api.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [arn] })))
        .containerInstances![0]!;

    const service = async (): Promise<Service> =>
      (await api.send(new DescribeServicesCommand({ cluster, services: [SERVICE] }))).services![0]!;
    const serviceTasks = async (desiredStatus: 'RUNNING' | 'STOPPED'): Promise<Task[]> => {
      const arns =
        (await api.send(new ListTasksCommand({ cluster, serviceName: SERVICE, desiredStatus }))).taskArns ??
        [];
      if (arns.length === 0) return [];
      const d = await api.send(new DescribeTasksCommand({ cluster, tasks: arns }));
      assert.deepEqual(d.failures, []);
      return d.tasks ?? [];
    };
    const steadyEvents = (s: Service): number =>
      (s.events ?? []).filter((e) => e.message === `(service ${SERVICE}) has reached a steady state.`).length;

    // 1. A service of four tasks over both hosts.
    await api.send(
      new RegisterTaskDefinitionCommand({
        family: 'lost-agents',
        networkMode: 'bridge',
        containerDefinitions: [
          {
            name: 'app',
            image: busyboxImage,
            memory: 32,
            command: ['sleep', '3600'],
            // An init process takes SIGTERM, so stops are quick.
            linuxParameters: { initProcessEnabled: true },
            stopTimeout: 2,
          },
        ],
      }),
    );
    await api.send(
      new CreateServiceCommand({
        cluster,
        serviceName: SERVICE,
        taskDefinition: 'lost-agents',
        desiredCount: DESIRED,
        launchType: 'EC2',
        placementStrategy: [{ type: 'spread', field: 'instanceId' }],
      }),
    );
    await bounded(
      'the service stable',
      async () => {
        const s = await service();
        return s.runningCount === DESIRED && s.pendingCount === 0 && steadyEvents(s) === 1 ? s : undefined;
      },
      60_000,
    );
    const initial = await serviceTasks('RUNNING');
    assert.equal(initial.length, DESIRED);
    assert.ok(initial.every((x) => x.lastStatus === 'RUNNING'));
    const onA = initial.filter((x) => x.containerInstanceArn === arnA);
    const onB = initial.filter((x) => x.containerInstanceArn === arnB);
    assert.equal(onA.length, DESIRED / 2, 'spread by instanceId: half on A');
    assert.equal(onB.length, DESIRED / 2, 'spread by instanceId: half on B');
    // Each task's container really runs, on the engine, under its own agent's label.
    const runtimeIds = (ts: Task[]): string[] => ts.map((x) => x.containers![0]!.runtimeId!).sort();
    const runningIds = (cs: RunningContainer[]): string[] =>
      cs
        .filter((c) => c.state === 'running')
        .map((c) => c.id)
        .sort();
    assert.deepEqual(runningIds(await containersOf(hostIdA)), runtimeIds(onA));
    assert.deepEqual(runningIds(await containersOf(hostIdB)), runtimeIds(onB));

    // 2. Agent A dies and never comes back.
    const killedAt = Date.now();
    await agentA.kill('SIGKILL');
    await bounded(
      'A disconnected',
      async () => (await describeInstance(arnA)).agentConnected === false,
      10_000,
    );

    const lost = await bounded(
      'A’s tasks STOPPED by the control plane',
      async () => {
        const d = await api.send(new DescribeTasksCommand({ cluster, tasks: onA.map((x) => x.taskArn!) }));
        const ts = d.tasks ?? [];
        return ts.length === onA.length && ts.every((x) => x.lastStatus === 'STOPPED') ? ts : undefined;
      },
      LOST_AFTER_MS + 15_000,
    );
    const reason = `Container instance ${idOf(arnA)} lost: its agent has been disconnected for more than ${LOST_AFTER_MS / 1000} seconds.`;
    for (const x of lost) {
      assert.equal(x.desiredStatus, 'STOPPED');
      assert.equal(x.stopCode, 'InfrastructureHealth');
      assert.equal(x.stoppedReason, reason);
      assert.equal(x.containerInstanceArn, arnA);
      assert.deepEqual(
        x.containers?.map((c) => c.lastStatus),
        ['STOPPED'],
      );
      const after = x.stoppedAt!.getTime() - killedAt;
      assert.ok(after >= LOST_AFTER_MS, `stopped ${after} ms after the kill, before the timeout`);
    }
    const latestStop = Math.max(...lost.map((x) => x.stoppedAt!.getTime()));

    // The service gets back to four RUNNING tasks, all on B, and says it is steady again.
    const recovered = await bounded(
      'the service back to four RUNNING tasks on B',
      async () => {
        const s = await service();
        if (s.runningCount !== DESIRED || s.pendingCount !== 0 || steadyEvents(s) < 2) return undefined;
        const ts = await serviceTasks('RUNNING');
        return ts.length === DESIRED && ts.every((x) => x.lastStatus === 'RUNNING') ? { s, ts } : undefined;
      },
      60_000,
    );
    const { s: svc, ts: live } = recovered;
    assert.equal(svc.desiredCount, DESIRED);
    assert.equal(svc.runningCount, DESIRED, 'no task counted twice');
    assert.equal(svc.deployments?.length, 1);
    assert.equal(svc.deployments![0]!.runningCount, DESIRED);
    assert.equal(svc.deployments![0]!.rolloutState, 'COMPLETED');
    assert.deepEqual(
      live.map((x) => x.containerInstanceArn),
      live.map(() => arnB),
      'every running task is on B',
    );
    const liveArns = live.map((x) => x.taskArn!);
    assert.equal(new Set(liveArns).size, DESIRED);
    // B's own tasks were left alone; the two others are new, started after the loss.
    for (const x of onB) {
      const same = live.find((y) => y.taskArn === x.taskArn);
      assert.ok(same, `B's task ${x.taskArn} was kept`);
      assert.equal(same.containers![0]!.runtimeId, x.containers![0]!.runtimeId);
    }
    const replacements = live.filter((x) => !onB.some((y) => y.taskArn === x.taskArn));
    assert.equal(replacements.length, onA.length);
    for (const x of replacements) {
      assert.ok(!onA.some((y) => y.taskArn === x.taskArn), 'a lost task is not running again');
      assert.ok(x.createdAt!.getTime() >= latestStop, 'replacements are created after the stop');
    }
    // Exactly the lost tasks are stopped; none was stopped or replaced twice.
    const stopped = await serviceTasks('STOPPED');
    assert.deepEqual(stopped.map((x) => x.taskArn).sort(), onA.map((x) => x.taskArn).sort());

    const instanceA = await describeInstance(arnA);
    assert.equal(instanceA.status, 'ACTIVE', 'A stays registered');
    assert.equal(instanceA.agentConnected, false);
    assert.equal(instanceA.runningTasksCount, 0);
    assert.equal(instanceA.pendingTasksCount, 0);
    assert.deepEqual(
      instanceA.remainingResources,
      instanceA.registeredResources,
      'A’s reservations are back',
    );
    const instanceB = await describeInstance(arnB);
    assert.equal(instanceB.agentConnected, true);
    assert.equal(instanceB.runningTasksCount, DESIRED);
    assert.equal(instanceB.pendingTasksCount, 0);

    // The engine agrees: B runs one container per live task; A's are still up, unmanaged.
    const onEngineB = await containersOf(hostIdB);
    assert.deepEqual(runningIds(onEngineB), runtimeIds(live));
    assert.deepEqual(onEngineB.map((c) => c.taskArn).sort(), [...liveArns].sort());
    const leftOnA = await containersOf(hostIdA, true);
    assert.deepEqual(runningIds(leftOnA), runtimeIds(onA), 'nobody stopped A’s containers');

    // Service events: each lost task's stop with its reason, and each replacement's start.
    const messages = (svc.events ?? []).map((e) => e.message ?? '');
    for (const x of onA) {
      const m = `(service ${SERVICE}) (task ${idOf(x.taskArn!)}) stopped: ${reason}`;
      assert.ok(messages.includes(m), `missing event "${m}" in:\n${messages.join('\n')}`);
    }
    for (const x of replacements) {
      const id = idOf(x.taskArn!);
      assert.ok(
        messages.some((m) => m.startsWith(`(service ${SERVICE}) has started`) && m.includes(`(task ${id})`)),
        `no "has started" event for ${id} in:\n${messages.join('\n')}`,
      );
    }

    // A's leftovers, removed by label (the sweep after the test would too; this checks they go).
    for (const c of leftOnA) await docker.getContainer(c.id).remove({ force: true, v: true });
    assert.deepEqual(await containersOf(hostIdA, true), []);
  });
});
