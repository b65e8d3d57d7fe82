// Shared by the agent's integration tests: a real `berth agent` process against a real
// `berth server` process and the local Docker engine. Every test run uses its own cluster name,
// task network and subnet, so runs (and other suites) do not see each other's containers; the
// sweep removes every container of the run's clusters and the run's networks. Every wait is
// bounded: DescribeTasks is polled every 100 ms up to a limit.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  DescribeContainerInstancesCommand,
  type ECSClient,
  type Task,
} from '@aws-sdk/client-ecs';
import Dockerode from 'dockerode';
import { readJournal } from '../../src/agent/state/journal.js';
import { STATE_FILE } from '../../src/agent/state/state-file.js';
import { repoRoot } from '../support/berth-process.js';

export const docker = new Dockerode();
export const runId = randomBytes(3).toString('hex');
const berthBin = join(repoRoot, 'bin', 'berth.js');

export interface AgentProcess {
  proc: ChildProcess;
  dataDir: string;
  output(): string;
  /** The agent's host id, from its state file. */
  hostId(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface AgentOptions {
  endpoint: string;
  cluster: string;
  dataDir?: string;
  taskSubnet: string;
  taskNetwork: string;
  managedCapacity?: boolean;
  extraArgs?: string[];
  /** Added to (or replacing) the agent's environment. */
  env?: Record<string, string>;
}

export function startAgentProcess(o: AgentOptions): AgentProcess {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-agent-it-'));
  const proc = spawn(
    process.execPath,
    [
      berthBin,
      'agent',
      '--endpoint',
      o.endpoint,
      '--cluster',
      o.cluster,
      '--data-dir',
      dataDir,
      '--task-subnet',
      o.taskSubnet,
      '--task-network',
      o.taskNetwork,
      '--log-level',
      'info',
      ...(o.managedCapacity ? ['--managed-capacity'] : []),
      ...(o.extraArgs ?? []),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        BERTH_AGENT_RECONNECT_MIN_MS: '100',
        BERTH_AGENT_RECONNECT_MAX_MS: '1000',
        BERTH_AGENT_STATE_FLUSH_DELAY_MS: '20',
        ...o.env,
      },
    },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  return {
    proc,
    dataDir,
    output: () => out,
    // Read as the agent reads it: a snapshot, then a journal of changes.
    hostId: () => readJournal(readFileSync(join(dataDir, STATE_FILE), 'utf8'), STATE_FILE).hostId,
    kill: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function createCluster(ecs: ECSClient, name: string): Promise<void> {
  await ecs.send(new CreateClusterCommand({ clusterName: name }));
}

/** Waits until the cluster has a connected container instance; returns its ARN. */
export async function waitForInstance(
  ecs: ECSClient,
  cluster: string,
  agent: AgentProcess,
  timeoutMs = 30_000,
): Promise<string> {
  return waitFor(
    `a connected container instance in ${cluster}`,
    async () => {
      const l = await ecs.send(new ListContainerInstancesCommand({ cluster }));
      if (!l.containerInstanceArns?.length) return undefined;
      const d = await ecs.send(
        new DescribeContainerInstancesCommand({ cluster, containerInstances: l.containerInstanceArns }),
      );
      return d.containerInstances?.find((c) => c.agentConnected)?.containerInstanceArn;
    },
    timeoutMs,
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}\nagent output:\n${agent.output()}`);
  });
}

export async function describeTask(ecs: ECSClient, cluster: string, taskArn: string): Promise<Task> {
  const d = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
  const t = d.tasks?.[0];
  if (!t) throw new Error(`task ${taskArn} not found: ${JSON.stringify(d.failures)}`);
  return t;
}

/** Polls DescribeTasks every 100 ms until lastStatus is `status`. */
export function waitForStatus(
  ecs: ECSClient,
  cluster: string,
  taskArn: string,
  status: string,
  timeoutMs = 30_000,
  agent?: AgentProcess,
): Promise<Task> {
  let seen: string | undefined;
  return waitFor(
    `task ${taskArn} ${status}`,
    async () => {
      const t = await describeTask(ecs, cluster, taskArn);
      seen = t.lastStatus;
      return t.lastStatus === status ? t : undefined;
    },
    timeoutMs,
  ).catch((e: unknown) => {
    throw new Error(
      `${String(e)} (last seen ${seen})${agent ? `\nagent output:\n${agent.output().slice(-4000)}` : ''}`,
    );
  });
}

export async function inspect(id: string): Promise<Dockerode.ContainerInspectInfo> {
  return docker.getContainer(id).inspect();
}

/** HTTP GET with a short timeout; the body, or undefined when nothing answers. */
export async function httpGet(
  url: string,
  timeoutMs = 2000,
): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

/** Removes every container of the given clusters and the given networks. */
export async function sweep(clusters: string[], networks: string[]): Promise<void> {
  for (const cluster of clusters) {
    const list = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`com.amazonaws.ecs.cluster=${cluster}`] }),
    });
    for (const c of list)
      await docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
  }
  for (const n of networks)
    await docker
      .getNetwork(n)
      .remove()
      .catch(() => undefined);
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
