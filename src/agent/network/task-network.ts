// awsvpc on one host: a Docker bridge network for task "ENIs" (subnet = the host's task subnet,
// gateway = its first address, which the host itself holds, so the host reaches every task at
// its own address), and per task a pause container on that network with the task's address.
// The task's containers join the pause container's namespace: two tasks can both listen on 80.
import type { AgentTask } from '../../domain/agent-protocol.js';
import type { ContainerRuntime, ContainerSpec, NetworkInfo } from '../runtime/container-runtime.js';
import { CannotCreateContainerError, CannotCreateNetworkError } from '../runtime/errors.js';
import { LABEL_CLUSTER, LABEL_HOST_ID, LABEL_PAUSE, LABEL_TASK_ARN } from '../engine/labels.js';
import { clusterNameOf, containerDefinitions } from '../engine/task-state.js';
import { gatewayOf, type Cidr } from './ipam.js';
import { PAUSE_ENTRYPOINT, PAUSE_IMAGE } from './pause-image.js';

export interface TaskNetworkSettings {
  networkName: string;
  cidr: Cidr;
  hostId: string;
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

/** The pause container: the task's address, plus the DNS settings of its containers (Docker keeps them per namespace). */
export function pauseSpec(task: AgentTask, name: string, ip: string, s: TaskNetworkSettings): ContainerSpec {
  const defs = containerDefinitions(task);
  const unique = (xs: string[]): string[] => [...new Set(xs)];
  const dnsServers = unique(defs.flatMap((d) => d.dnsServers ?? []));
  const dnsSearch = unique(defs.flatMap((d) => d.dnsSearchDomains ?? []));
  const extraHosts = defs.flatMap((d) => d.extraHosts ?? []);
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
    networkMode: { network: s.networkName, ipv4Address: ip },
    ...(dnsServers.length > 0 ? { dnsServers } : {}),
    ...(dnsSearch.length > 0 ? { dnsSearchDomains: dnsSearch } : {}),
    ...(extraHosts.length > 0
      ? { extraHosts: extraHosts.map((h) => ({ hostname: h.hostname, ipAddress: h.ipAddress })) }
      : {}),
    ...(task.taskDefinition.ipcMode === 'task' ? { ipcMode: 'shareable' } : {}),
    stopTimeoutSeconds: 2,
    logConfig: { driver: 'none' },
  };
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
  s: TaskNetworkSettings,
): Promise<{ dockerId: string; macAddress?: string }> {
  const spec = pauseSpec(task, name, ip, s);
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
    const net = st.networks.find((n) => n.name === s.networkName);
    return { dockerId: id, ...(net?.macAddress ? { macAddress: net.macAddress } : {}) };
  } catch (e) {
    await runtime.removeContainer(id, { force: true }).catch(() => undefined);
    throw e;
  }
}

/** Stops and removes the pause container (idempotent); its address is free for Docker afterwards. */
export async function removePause(runtime: ContainerRuntime, idOrName: string): Promise<void> {
  await runtime.removeContainer(idOrName, { force: true });
}
