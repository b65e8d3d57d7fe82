// What the agent knows about one task: the task as the control plane sent it, the agent's own
// desired status (which only moves forward, RUNNING → STOPPED), the known status of the task
// and of every container, and what it last reported. Persisted as-is in the agent's state
// file, so everything here is plain JSON. Only the task's runner mutates it.
//
//   container known status:  NONE → PULLED → CREATED → RUNNING → STOPPED   (only forward)
//   task known status:       PROVISIONING → PENDING → RUNNING → STOPPING → DEPROVISIONING → STOPPED
import type { AgentTask, EniObservation, TaskStateReport } from '../../domain/agent-protocol.js';
import type { TaskStatus } from '../../domain/task/status.js';
import { effectiveNetworkMode } from '../../domain/task-definition/network.js';
import type { ContainerDefinition, NetworkMode } from '../../generated/ecs/types.js';
import type { AssignedPort, ContainerNetwork, ImageCommand } from '../runtime/container-runtime.js';

export const CONTAINER_KNOWN_STATUSES = ['NONE', 'PULLED', 'CREATED', 'RUNNING', 'STOPPED'] as const;
export type ContainerKnownStatus = (typeof CONTAINER_KNOWN_STATUSES)[number];

const containerRank = new Map<string, number>(CONTAINER_KNOWN_STATUSES.map((s, i) => [s, i]));
export function compareContainerKnown(a: ContainerKnownStatus, b: ContainerKnownStatus): number {
  return Math.sign(containerRank.get(a)! - containerRank.get(b)!);
}

/** The ECS vocabulary for a container: everything before RUNNING is PENDING. */
export function ecsContainerStatus(s: ContainerKnownStatus): 'PENDING' | 'RUNNING' | 'STOPPED' {
  switch (s) {
    case 'NONE':
    case 'PULLED':
    case 'CREATED':
      return 'PENDING';
    case 'RUNNING':
      return 'RUNNING';
    case 'STOPPED':
      return 'STOPPED';
    default: {
      const never: never = s;
      throw new Error(`unknown container status ${String(never)}`);
    }
  }
}

/** A failure as the state keeps it (errors are not JSON). */
export interface ErrorInfo {
  /** `CannotPullContainerError`, ... */
  name: string;
  message: string;
  retriable: boolean;
  kind?: string;
}

export function reasonText(e: ErrorInfo): string {
  return `${e.name}: ${e.message}`;
}

export type HealthText = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

export interface KnownContainer {
  name: string;
  essential: boolean;
  image: string;
  containerArn: string;
  /** The id in this container's metadata URIs. */
  metadataId: string;
  /** Chosen before the container is created, so a create that crashed half-way is found again by name. */
  dockerName: string;
  /** The image's own entrypoint and command, as the pull found them (netwait needs them). */
  imageCommand?: ImageCommand;
  dockerId?: string;
  imageId?: string;
  known: ContainerKnownStatus;
  exitCode?: number;
  reason?: string;
  oomKilled?: boolean;
  hasHealthCheck: boolean;
  health?: { status: HealthText; since?: number; output?: string; exitCode?: number };
  ports: AssignedPort[];
  networks: ContainerNetwork[];
  /** What the container was created with (for the metadata endpoint). */
  labels: Record<string, string>;
  limits: { cpu?: number; memory?: number };
  logDriver?: string;
  logOptions?: Record<string, string>;
  /** Epoch ms. */
  createdAt?: number;
  startedAt?: number;
  finishedAt?: number;
  /** Created and waiting for its dependencies since (epoch ms), for startTimeout. */
  waitingSince?: number;
  /**
   * A `die` seen while the container's own-namespace start was still in flight (reduce.ts):
   * applied when that start ends. Its success means the program ran and exited; its failure
   * reports the failed start instead.
   */
  diedWhileStarting?: { at: number; exitCode?: number };
}

/** The awsvpc "ENI": an address on the host's task network held by a pause container. */
export interface TaskNetwork {
  status: 'NONE' | 'READY' | 'RELEASED';
  attachmentId: string;
  networkInterfaceId: string;
  subnetId: string;
  pauseName: string;
  /** Allocated from the task subnet; held until the network is RELEASED. */
  ip?: string;
  prefixLength?: number;
  gateway?: string;
  subnetCidr?: string;
  macAddress?: string;
  pauseDockerId?: string;
  /** Set when the agent plumbed the namespace: where the task's resolv.conf and hosts are. */
  dnsFilesDir?: string;
  /** No pause container: the task's only container holds the namespace (network/netwait.ts). */
  ownNetwork?: boolean;
}

export interface TaskVolumes {
  /** Task volume name → Docker volume name, for volumes the task owns (removed at clean-up). */
  owned: Record<string, string>;
  ready: boolean;
}

/** Failed attempts of a step (by busy key: a container name, `#network`...) and when to try again. */
export interface RetryState {
  attempts: number;
  /** Epoch ms. */
  retryAt: number;
  lastError: string;
}

export type StopCode = NonNullable<TaskStateReport['stopCode']>;

export interface TaskState {
  task: AgentTask;
  desired: 'RUNNING' | 'STOPPED';
  known: TaskStatus;
  stopCode?: StopCode;
  stoppedReason?: string;
  /** Epoch ms. */
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  executionStoppedAt?: number;
  stoppedAt?: number;
  containers: KnownContainer[];
  network?: TaskNetwork;
  volumes: TaskVolumes;
  retries: Record<string, RetryState>;
  /** Containers must be re-inspected before anything else is done (after a restart or an engine outage). */
  needsResync: boolean;
  /** Fingerprint of the last report queued, so an unchanged task is not reported twice. */
  lastReport?: string;
  sentStatus?: TaskStatus;
  /** When the stopped task's containers are removed (epoch ms). */
  cleanupAt?: number;
  cleaned: boolean;
}

export const PAUSE_TARGET = '#pause';

export interface NewTaskIds {
  /** `n` random hex characters. */
  randomHex(n: number): string;
  uuid(): string;
}

export function taskIdOf(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
}

export function clusterNameOf(clusterArn: string): string {
  return clusterArn.slice(clusterArn.lastIndexOf('/') + 1);
}

export function networkModeOf(task: AgentTask): NetworkMode {
  return effectiveNetworkMode(task.taskDefinition.networkMode);
}

/** `ecs-<family>-<revision>-<container>-<20 hex>`, the ECS agent's naming. */
export function dockerNameFor(task: AgentTask, container: string, randomHex: string): string {
  return `ecs-${task.taskDefinition.family ?? 'task'}-${task.taskDefinition.revision ?? 0}-${container}-${randomHex}`;
}

export function containerDefinitions(task: AgentTask): ContainerDefinition[] {
  return task.taskDefinition.containerDefinitions ?? [];
}

/** Volumes the task owns: task-scoped Docker volumes (no host path, or dockerVolumeConfiguration scope task). */
export function ownedVolumeNames(task: AgentTask): Record<string, string> {
  const out: Record<string, string> = {};
  const id = taskIdOf(task.taskArn);
  for (const v of task.taskDefinition.volumes ?? []) {
    if (!v.name) continue;
    if (v.host?.sourcePath) continue;
    if (v.dockerVolumeConfiguration && v.dockerVolumeConfiguration.scope === 'shared') continue;
    if (v.efsVolumeConfiguration || v.fsxWindowsFileServerVolumeConfiguration) continue;
    out[v.name] = `berth-${id}-${v.name}`;
  }
  return out;
}

/** The task uses Docker volumes (or volumes this agent must refuse): a volume step runs before any create. */
export function needsVolumeStep(task: AgentTask): boolean {
  return (task.taskDefinition.volumes ?? []).some((v) => !v.host?.sourcePath);
}

export function newTaskState(task: AgentTask, ids: NewTaskIds): TaskState {
  const containers = containerDefinitions(task).map((c): KnownContainer => ({
    name: c.name ?? '',
    essential: c.essential !== false,
    image: c.image ?? '',
    containerArn: task.containerArns[c.name ?? ''] ?? '',
    metadataId: ids.uuid(),
    dockerName: dockerNameFor(task, c.name ?? '', ids.randomHex(20)),
    known: 'NONE',
    hasHealthCheck: c.healthCheck !== undefined && c.healthCheck.command[0] !== 'NONE',
    ports: [],
    networks: [],
    labels: {},
    limits: {},
  }));
  const state: TaskState = {
    task,
    desired: 'RUNNING',
    known: 'PROVISIONING',
    containers,
    volumes: { owned: ownedVolumeNames(task), ready: false },
    retries: {},
    needsResync: false,
    cleaned: false,
  };
  if (networkModeOf(task) === 'awsvpc') {
    state.network = {
      status: 'NONE',
      attachmentId: task.eniAttachmentId ?? ids.uuid(),
      networkInterfaceId: `eni-${ids.randomHex(17)}`,
      subnetId: task.awsvpcConfiguration?.subnets[0] ?? '',
      pauseName: dockerNameFor(task, 'internalecspause', ids.randomHex(20)),
    };
  }
  return state;
}

export function eniOf(state: TaskState, privateDns: (ip: string) => string): EniObservation | undefined {
  const n = state.network;
  if (!n || n.status !== 'READY' || !n.ip) return undefined;
  return {
    attachmentId: n.attachmentId,
    subnetId: n.subnetId,
    networkInterfaceId: n.networkInterfaceId,
    macAddress: n.macAddress ?? '',
    privateIPv4Address: n.ip,
    privateDnsName: privateDns(n.ip),
  };
}
