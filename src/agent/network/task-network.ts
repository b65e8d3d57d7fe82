// awsvpc on one host: a Docker bridge network for task "ENIs" (subnet = the host's task subnet,
// gateway = its first address, which the host itself holds, so the host reaches every task at
// its own address), and per task a pause container with the task's address on that bridge.
// The task's containers join the pause container's namespace: two tasks can both listen on 80.
//
// Two ways to give the pause container its address: the agent plumbs a namespace Docker left
// alone (plumbing.ts; the default when the agent runs as root), or Docker attaches the container
// to the network with a fixed address (slower: see plumbing.ts). The task looks the same either way.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentTask } from '../../domain/agent-protocol.js';
import type { ContainerRuntime, ContainerSpec, NetworkInfo } from '../runtime/container-runtime.js';
import { CannotCreateContainerError, CannotCreateNetworkError } from '../runtime/errors.js';
import { LABEL_CLUSTER, LABEL_HOST_ID, LABEL_PAUSE, LABEL_TASK_ARN } from '../engine/labels.js';
import { clusterNameOf, containerDefinitions, taskIdOf } from '../engine/task-state.js';
import {
  dnsFilesIn,
  removeTaskDnsFiles,
  taskDnsFilePaths,
  writeTaskDnsFiles,
  type TaskDnsFiles,
} from './dns-files.js';
import { markNetworkReady } from './netwait.js';
import { gatewayOf, privateDnsName, type Cidr } from './ipam.js';
import { PAUSE_ENTRYPOINT, PAUSE_IMAGE } from './pause-image.js';
import type { NamespacePlumber } from './plumbing.js';

export interface TaskNetworkSettings {
  networkName: string;
  cidr: Cidr;
  hostId: string;
  /**
   * Set when the agent plumbs namespaces itself; `filesDir` holds each task's resolv.conf and
   * hosts; with `netwaitPath`, one-container tasks hold their own namespace (netwait.ts).
   */
  plumbing?: { plumber: NamespacePlumber; filesDir: string; netwaitPath?: string };
}

/** The Linux bridge behind a Docker bridge network (Docker's naming unless the network names it). */
export function bridgeNameOf(n: NetworkInfo): string {
  return n.options?.['com.docker.network.bridge.name'] ?? `br-${n.id.slice(0, 12)}`;
}

export class TaskNetworkMismatchError extends Error {
  override readonly name = 'TaskNetworkMismatchError';
}

function subnetOf(n: NetworkInfo): string | undefined {
  return n.subnets[0]?.subnet;
}

/**
 * The task network, created when missing. An existing network of that name with another subnet
 * is refused: addresses handed out from the configured subnet would not work on it.
 */
export async function ensureTaskNetwork(
  runtime: ContainerRuntime,
  s: TaskNetworkSettings,
): Promise<NetworkInfo> {
  const check = (n: NetworkInfo): NetworkInfo => {
    if (subnetOf(n) !== s.cidr.text) {
      throw new TaskNetworkMismatchError(
        `Docker network ${s.networkName} exists with subnet ${subnetOf(n) ?? '(none)'}, not the configured task subnet ${s.cidr.text}; remove it or configure another --task-network`,
      );
    }
    return n;
  };
  const existing = await runtime.inspectNetwork(s.networkName);
  if (existing) return check(existing);
  try {
    await runtime.createNetwork({
      name: s.networkName,
      driver: 'bridge',
      subnet: s.cidr.text,
      gateway: gatewayOf(s.cidr),
      labels: { [LABEL_HOST_ID]: s.hostId },
    });
  } catch (e) {
    // Another agent on this engine (or a previous run) created it meanwhile: use that one.
    if (!(e instanceof CannotCreateNetworkError && e.kind === 'conflict')) throw e;
  }
  const made = await runtime.inspectNetwork(s.networkName);
  if (!made)
    throw new CannotCreateNetworkError(`network ${s.networkName} is missing right after its creation`);
  return check(made);
}

/** The DNS settings of a task's containers, merged: they share one namespace and one resolv.conf. */
function taskDns(task: AgentTask): {
  dnsServers: string[];
  dnsSearchDomains: string[];
  extraHosts: { hostname: string; ipAddress: string }[];
} {
  const defs = containerDefinitions(task);
  const unique = (xs: string[]): string[] => [...new Set(xs)];
  return {
    dnsServers: unique(defs.flatMap((d) => d.dnsServers ?? [])),
    dnsSearchDomains: unique(defs.flatMap((d) => d.dnsSearchDomains ?? [])),
    extraHosts: defs
      .flatMap((d) => d.extraHosts ?? [])
      .map((h) => ({ hostname: h.hostname, ipAddress: h.ipAddress })),
  };
}

/**
 * The pause container: the task's address (Docker-attached) or a namespace of its own to plumb,
 * its hostname (the ENI's private DNS name, as on Fargate), and, when Docker networks it, the DNS
 * settings of the task's containers (Docker keeps them per namespace).
 */
export function pauseSpec(task: AgentTask, name: string, ip: string, s: TaskNetworkSettings): ContainerSpec {
  const dns = taskDns(task);
  return {
    name,
    image: PAUSE_IMAGE,
    entryPoint: [...PAUSE_ENTRYPOINT],
    labels: {
      [LABEL_TASK_ARN]: task.taskArn,
      [LABEL_CLUSTER]: clusterNameOf(task.clusterArn),
      [LABEL_HOST_ID]: s.hostId,
      [LABEL_PAUSE]: 'true',
    },
    hostname: privateDnsName(ip, task.region),
    ...(s.plumbing
      ? { networkMode: 'isolated' as const }
      : {
          networkMode: { network: s.networkName, ipv4Address: ip },
          ...(dns.dnsServers.length > 0 ? { dnsServers: dns.dnsServers } : {}),
          ...(dns.dnsSearchDomains.length > 0 ? { dnsSearchDomains: dns.dnsSearchDomains } : {}),
          ...(dns.extraHosts.length > 0 ? { extraHosts: dns.extraHosts } : {}),
        }),
    ...(task.taskDefinition.ipcMode === 'task' ? { ipcMode: 'shareable' } : {}),
    stopTimeoutSeconds: 2,
    logConfig: { driver: 'none' },
  };
}

export interface PauseStarted {
  dockerId: string;
  macAddress?: string;
  /** Plumbed namespaces: the directory of the resolv.conf and hosts to mount in the task's containers. */
  dnsFilesDir?: string;
}

/**
 * Creates and starts the pause container with the task's address; returns its id and MAC. A
 * container of that name left by a crash is replaced (it may hold an old address or be stopped).
 */
export async function startPause(
  runtime: ContainerRuntime,
  task: AgentTask,
  name: string,
  ip: string,
  s: TaskNetworkSettings & { bridge: string },
): Promise<PauseStarted> {
  const spec = pauseSpec(task, name, ip, s);
  const files = s.plumbing ? taskFilesOf(task, s.plumbing.filesDir) : undefined;
  let id: string;
  try {
    id = await runtime.createContainer(spec);
  } catch (e) {
    if (!(e instanceof CannotCreateContainerError && e.kind === 'conflict')) throw e;
    await runtime.removeContainer(name, { force: true });
    id = await runtime.createContainer(spec);
  }
  try {
    await runtime.startContainer(id);
    const st = await runtime.inspectContainer(id);
    if (s.plumbing && files) {
      if (st.pid === undefined)
        throw new CannotCreateNetworkError(`the pause container of ${task.taskArn} has no process`);
      await writeDnsFilesIn(task, ip, files);
      const macAddress = await attachInterface(s, st.pid, ip);
      return { dockerId: id, macAddress, dnsFilesDir: files.dir };
    }
    const net = st.networks.find((n) => n.name === s.networkName);
    return { dockerId: id, ...(net?.macAddress ? { macAddress: net.macAddress } : {}) };
  } catch (e) {
    await runtime.removeContainer(id, { force: true }).catch(() => undefined);
    if (files) await removeTaskDnsFiles(files.dir).catch(() => undefined);
    throw e;
  }
}

/**
 * Stops and removes the pause container (idempotent): its namespace goes, and a plumbed
 * interface with it. The task's resolv.conf and hosts go too.
 */
export async function removePause(
  runtime: ContainerRuntime,
  idOrName: string,
  dnsFilesDir?: string,
): Promise<void> {
  await runtime.removeContainer(idOrName, { force: true });
  if (dnsFilesDir !== undefined) await removeTaskDnsFiles(dnsFilesDir);
}

function writeDnsFilesIn(task: AgentTask, ip: string, files: TaskDnsFiles): Promise<void> {
  const dns = taskDns(task);
  return writeTaskDnsFiles(
    files,
    { dnsServers: dns.dnsServers, dnsSearchDomains: dns.dnsSearchDomains },
    { ip, hostname: privateDnsName(ip, task.region), extraHosts: dns.extraHosts },
  );
}

/** Where netwait looks for its ready file: beside the task's DNS files. */
export function readyDirOf(dnsFilesDir: string): string {
  return join(dnsFilesDir, 'net');
}

/** Where a task's resolv.conf, hosts (and ready directory) live under the agent's `filesDir`. */
export function taskFilesOf(task: AgentTask, filesDir: string): TaskDnsFiles {
  return taskDnsFilePaths(filesDir, taskIdOf(task.taskArn));
}

/**
 * A task whose only container holds its namespace: its DNS files in `dnsFilesDir` and an empty
 * ready directory (a ready file left from an earlier attempt would let the program start before
 * its network). Needed before the container starts, not before it is created.
 */
export async function prepareOwnNetwork(task: AgentTask, ip: string, dnsFilesDir: string): Promise<void> {
  await writeDnsFilesIn(task, ip, { dir: dnsFilesDir, ...dnsFilesIn(dnsFilesDir) });
  const ready = readyDirOf(dnsFilesDir);
  await rm(ready, { recursive: true, force: true });
  await mkdir(ready, { recursive: true });
}

/** Plumbs the started container's namespace, then lets its program run. */
export async function plumbOwnNetwork(
  pid: number,
  ip: string,
  dnsFilesDir: string,
  s: TaskNetworkSettings & { bridge: string },
): Promise<void> {
  await attachInterface(s, pid, ip);
  markNetworkReady(readyDirOf(dnsFilesDir));
}

/** The task's interface in the namespace of `pid`, on the task bridge; returns its MAC. */
async function attachInterface(
  s: TaskNetworkSettings & { bridge: string },
  pid: number,
  ip: string,
): Promise<string> {
  if (!s.plumbing) throw new CannotCreateNetworkError('this agent does not plumb task namespaces');
  try {
    const r = await s.plumbing.plumber.attach({
      pid,
      bridge: s.bridge,
      ip,
      prefixLength: s.cidr.prefix,
      gateway: gatewayOf(s.cidr),
    });
    return r.macAddress;
  } catch (e) {
    throw new CannotCreateNetworkError((e as Error).message, { cause: e });
  }
}
