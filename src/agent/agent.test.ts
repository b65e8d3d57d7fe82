// BerthAgent end to end without Docker: a real control plane (BerthServer on a temporary SQLite
// store) and the fake container runtime. Registration, the session, task assignment, reports,
// StopTask, FARGATE on managed capacity and a restart with the saved state.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseServerConfig } from '../config/server-config.js';
import type { RunTaskResponse, Task } from '../generated/ecs/types.js';
import { parseGatewayConfig } from '../gateway/config.js';
import { BerthServer } from '../server/berth-server.js';
import { BerthAgent, type BerthAgentDeps } from './agent.js';
import { parseAgentConfig, type AgentConfig } from './config.js';
import { EcsApiClient } from './ecs-api.js';
import { PAUSE_IMAGE } from './network/pause-image.js';
import { macAddressFor, type AttachRequest } from './network/plumbing.js';
import { FakeRuntime } from './runtime/fake-runtime.js';

const log = pino({ level: 'silent' });
let server: BerthServer;
let api: EcsApiClient;
const dirs: string[] = [];
const agents: BerthAgent[] = [];

const tmp = (what: string): string => {
  const d = mkdtempSync(join(tmpdir(), `berth-${what}-`));
  dirs.push(d);
  return d;
};

before(async () => {
  server = new BerthServer(
    parseServerConfig({ port: '0', dataDir: tmp('server'), logLevel: 'silent' }, {}),
    undefined,
    log,
    parseGatewayConfig({
      BERTH_AGENT_HEARTBEAT_INTERVAL_MS: '200',
      BERTH_AGENT_HEARTBEAT_TIMEOUT_MS: '2000',
    }),
  );
  const url = await server.start();
  api = new EcsApiClient({ endpoint: url, region: 'us-east-1' });
  await api.call('RegisterTaskDefinition', {
    family: 'sleeper',
    containerDefinitions: [{ name: 'app', image: 'img/app:1', memory: 64, stopTimeout: 1 }],
  });
  await api.call('RegisterTaskDefinition', {
    family: 'fg',
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'web', image: 'img/app:1', memory: 100, cpu: 99 }],
  });
});

after(async () => {
  await server.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
});

function config(dataDir: string, more: Record<string, unknown> = {}): AgentConfig {
  return parseAgentConfig(
    {
      endpoint: server.url,
      dataDir,
      metadataListen: '127.0.0.1:0',
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
      stateFlushDelayMs: 5,
      logLevel: 'silent',
      ...more,
    },
    {},
  );
}

async function startAgent(
  rt: FakeRuntime,
  dataDir: string,
  more: Record<string, unknown> = {},
  deps: Omit<BerthAgentDeps, 'runtime' | 'log'> = {},
): Promise<BerthAgent> {
  rt.addImage(PAUSE_IMAGE);
  rt.addImage('img/app:1');
  const a = new BerthAgent(config(dataDir, more), { runtime: rt, log, ...deps });
  agents.push(a);
  await a.start();
  return a;
}

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function describeTask(cluster: string, arn: string): Promise<Task> {
  const out = await api.call('DescribeTasks', { cluster, tasks: [arn] });
  return out.tasks![0]!;
}

/** RunTask of an awsvpc family on FARGATE, retried until the agent's managed capacity is recorded. */
const runOnFargate = (taskDefinition: string): Promise<RunTaskResponse> =>
  waitFor('FARGATE capacity', async () => {
    const r = await api.call('RunTask', {
      taskDefinition,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-abc'] } },
    });
    return r.tasks?.length ? r : undefined;
  });

const until = (cluster: string, arn: string, status: string): Promise<Task> =>
  waitFor(`task ${status}`, async () => {
    const t = await describeTask(cluster, arn);
    return t.lastStatus === status ? t : undefined;
  });

describe('BerthAgent (fake runtime, real control plane)', () => {
  it('registers, connects, runs a task and stops it; a restart keeps its instance and its containers', async () => {
    await api.call('CreateCluster', { clusterName: 'agents' });
    const rt = new FakeRuntime({ cpus: 2, memoryBytes: 2048 * 1024 * 1024 });
    const dir = tmp('agent');
    const a1 = await startAgent(rt, dir, { cluster: 'agents', attributes: { stack: 'blue' } });
    const arn = a1.containerInstanceArn!;
    const ci = await waitFor('agent connected', async () => {
      const d = await api.call('DescribeContainerInstances', {
        cluster: 'agents',
        containerInstances: [arn],
      });
      const x = d.containerInstances?.[0];
      return x?.agentConnected ? x : undefined;
    });
    assert.deepEqual(ci.registeredResources?.find((r) => r.name === 'CPU')?.integerValue, 2048);
    assert.equal(ci.registeredResources?.find((r) => r.name === 'MEMORY')?.integerValue, 2048 - 256);
    assert.equal(ci.attributes?.find((a) => a.name === 'stack')?.value, 'blue');
    assert.ok(ci.attributes?.some((a) => a.name === 'ecs.capability.task-eni'));

    const run = await api.call('RunTask', { cluster: 'agents', taskDefinition: 'sleeper' });
    const taskArn = run.tasks![0]!.taskArn!;
    const running = await until('agents', taskArn, 'RUNNING');
    const dockerId = running.containers![0]!.runtimeId!;
    assert.equal((await rt.inspectContainer(dockerId)).status, 'running');

    // Restart: same host id, same instance, container adopted (not recreated).
    const hostId = a1.hostId;
    await a1.stop();
    agents.splice(agents.indexOf(a1), 1);
    const creates = rt.calls.filter((x) => x.op === 'createContainer').length;
    const a2 = await startAgent(rt, dir, { cluster: 'agents' });
    assert.equal(a2.hostId, hostId);
    assert.equal(a2.containerInstanceArn, arn);
    await waitFor('connected again', async () => a2.connected);
    await waitFor('task adopted', async () => a2.byTaskArn(taskArn)?.knownStatus === 'RUNNING');
    assert.equal(rt.calls.filter((x) => x.op === 'createContainer').length, creates);
    assert.equal(a2.byTaskArn(taskArn)?.containers[0]?.dockerId, dockerId);

    await api.call('StopTask', { cluster: 'agents', task: taskArn, reason: 'done here' });
    const stopped = await until('agents', taskArn, 'STOPPED');
    assert.equal(stopped.stopCode, 'UserInitiated');
    assert.equal(stopped.stoppedReason, 'done here');
    assert.equal((await rt.inspectContainer(dockerId)).status, 'exited');
  });

  it('waits for an unreachable Docker engine, and stop() during that wait ends start() cleanly', async () => {
    const rt = new FakeRuntime();
    rt.setAvailable(false);
    const a = new BerthAgent(config(tmp('agent')), { runtime: rt, log });
    const starting = a.start();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(a.connected, false);
    await a.stop();
    await assert.rejects(starting, /stopping/);
    assert.equal(a.containerInstanceArn, undefined);
  });

  it('serves as FARGATE capacity: an awsvpc task with the task size as its limits', async () => {
    const rt = new FakeRuntime();
    await startAgent(rt, tmp('agent'), {
      managedCapacity: true,
      taskSubnetCidr: '198.19.3.0/24',
      taskNetworkName: 'fg-net',
    });
    const run = await runOnFargate('fg');
    const taskArn = run.tasks![0]!.taskArn!;
    const t = await until('default', taskArn, 'RUNNING');
    const eni = t.attachments?.[0];
    assert.equal(eni?.status, 'ATTACHED');
    const ip = eni?.details?.find((d) => d.name === 'privateIPv4Address')?.value;
    assert.match(ip ?? '', /^198\.19\.3\.\d+$/);
    const spec = rt.calls.find(
      (x) => x.op === 'createContainer' && (x.args[0] as { image: string }).image === 'img/app:1',
    )!.args[0] as {
      nanoCpus?: number;
      memoryMiB?: number;
    };
    assert.equal(spec.nanoCpus, 250_000_000);
    assert.equal(spec.memoryMiB, 100);
  });

  it('with an injected plumber and netwait, a one-container awsvpc task holds its own namespace', async () => {
    const rt = new FakeRuntime();
    const attached: AttachRequest[] = [];
    const plumber = {
      attach: (req: AttachRequest) => {
        attached.push(req);
        return Promise.resolve({ macAddress: macAddressFor(req.ip) });
      },
    };
    await startAgent(
      rt,
      tmp('agent'),
      { managedCapacity: true, taskSubnetCidr: '198.19.4.0/24', taskNetworkName: 'own-net' },
      { plumber, netwaitPath: '/opt/netwait' },
    );
    // netwait runs the container's command after it: the image here has none, so the task has one.
    await api.call('RegisterTaskDefinition', {
      family: 'own',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'web', image: 'img/app:1', command: ['serve'] }],
    });
    const run = await runOnFargate('own');
    const arn = run.tasks![0]!.taskArn!;
    const t = await until('default', arn, 'RUNNING');
    const ip = t.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value;
    assert.deepEqual(
      attached.map((a) => a.ip),
      [ip],
    );
    const created = rt.calls
      .filter((x) => x.op === 'createContainer')
      .map((x) => x.args[0] as { image: string; entryPoint?: string[] });
    assert.deepEqual(
      created.map((c) => c.image),
      ['img/app:1'],
      'no pause container',
    );
    assert.equal(created[0]!.entryPoint?.[0], '/.berth/netwait');
  });
});
