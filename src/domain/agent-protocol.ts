// The session between a `berth agent` and the control plane: JSON messages over one websocket
// (`GET /agent/v1/session`). Shared by both ends; pure types and tiny helpers only.
//
//   agent                                   control plane (gateway)
//     ── hello {hostId, instances, managed} ──►   marks agentConnected, records the session
//     ◄── welcome {sessionId, heartbeat} ────
//     ◄── tasks {full: true, tasks[]} ───────   everything assigned to this host and not STOPPED
//     ◄── tasks {full: false, tasks[]} ──────   later changes (desiredStatus, new tasks)
//     ── report {id, change} ───────────────►   applied idempotently (statuses only move forward)
//     ◄── ack {id} ──────────────────────────   agent drops the report from its durable outbox
//     ── health {containerRuntime} ─────────►   instance healthStatus (Docker up or down)
//     ◄── logs-open {streamId, ...} ─────────   `berth logs` relayed to the host that has the logs
//     ── logs-data / logs-end ──────────────►
//
// Every message may be lost or repeated: the agent resends unacked reports after reconnecting,
// the gateway resends the full desired state on every (re)connect. Websocket ping/pong is the
// heartbeat; a session silent for HEARTBEAT_TIMEOUT_MS is closed and the agent reconnects.
import type {
  AttachmentStateChange,
  ContainerStateChange,
  KeyValuePair,
  NetworkBinding,
  Tag,
  TaskDefinition,
  TaskOverride,
  AwsVpcConfiguration,
} from '../generated/ecs/types.js';

export const AGENT_SESSION_PATH = '/agent/v1/session';
export const PROTOCOL_VERSION = 1;
export const HEARTBEAT_INTERVAL_MS = 5_000;
export const HEARTBEAT_TIMEOUT_MS = 20_000;

/** One container instance registration this host holds (a host may be in several clusters). */
export interface HelloInstance {
  containerInstanceArn: string;
}

/** A host that also serves as managed (FARGATE) capacity announces what it offers. */
export interface HelloManagedCapacity {
  cpu: number;
  memory: number;
  availabilityZone: string;
}

export interface HelloMessage {
  type: 'hello';
  protocolVersion: number;
  /** Stable per host (kept in the agent's state dir). */
  hostId: string;
  agentVersion: string;
  instances: HelloInstance[];
  managed?: HelloManagedCapacity;
}

export interface WelcomeMessage {
  type: 'welcome';
  sessionId: string;
  heartbeatIntervalMs: number;
  /**
   * hello instances the session does not serve: MISSING (no such registration: register anew)
   * or INACTIVE (deregistered). The session goes on for the others; absent when none.
   */
  refusedInstances?: { containerInstanceArn: string; reason: 'MISSING' | 'INACTIVE' }[];
}

/** Close codes the gateway uses besides 1001 (shutting down) and 1011 (internal error); the agent reconnects after any of them. */
export const SESSION_CLOSE_CODES = {
  /** A newer session of the same hostId took over. */
  replaced: 4000,
  /** The hello was malformed (the reason names the member). */
  badHello: 4400,
  /** No hello within the heartbeat timeout. */
  helloTimeout: 4408,
} as const;

/** Everything an agent needs to run one task, without reading the store. */
export interface AgentTask {
  taskArn: string;
  clusterArn: string;
  account: string;
  region: string;
  /** The store version of the task record this was built from; higher is newer. */
  version: number;
  desiredStatus: 'RUNNING' | 'STOPPED';
  /** Set when the control plane asked for the stop (UserInitiated, ServiceSchedulerInitiated...). */
  stopCode?: string;
  stoppedReason?: string;
  launchType: 'EC2' | 'FARGATE' | 'EXTERNAL';
  containerInstanceArn?: string;
  availabilityZone?: string;
  taskDefinition: TaskDefinition;
  overrides: TaskOverride;
  /** Task-level limits after overrides, as unit strings ("256", "512"). */
  cpu?: string;
  memory?: string;
  /** ECS container ARNs by container name. */
  containerArns: Record<string, string>;
  awsvpcConfiguration?: AwsVpcConfiguration;
  /** The task's ElasticNetworkInterface attachment id (awsvpc), for the agent's ENI report. */
  eniAttachmentId?: string;
  group?: string;
  startedBy?: string;
  tags: Tag[];
  createdAt: number;
}

export interface TasksMessage {
  type: 'tasks';
  /** true: this is every task assigned to the host that is not STOPPED; anything else it knows may be dropped once stopped and reported. */
  full: boolean;
  tasks: AgentTask[];
}

/** What the agent saw of one container, beyond the ECS ContainerStateChange shape. */
export interface ContainerObservation extends ContainerStateChange {
  containerName: string;
  status: 'PENDING' | 'RUNNING' | 'STOPPED';
  healthStatus?: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
  networkBindings?: NetworkBinding[];
  dockerName?: string;
  image?: string;
  imageDigest?: string;
}

/** Network interface details of an awsvpc task, reported once set up. */
export interface EniObservation {
  attachmentId: string;
  subnetId: string;
  networkInterfaceId: string;
  macAddress: string;
  privateIPv4Address: string;
  privateDnsName: string;
}

/**
 * A task state change: the fields of SubmitTaskStateChange plus what ECS's own backend learns
 * through channels Berth does not have (health, ENI details, stop codes, timestamps).
 * Timestamps are epoch seconds.
 */
export interface TaskStateReport {
  taskArn: string;
  status:
    | 'PROVISIONING'
    | 'PENDING'
    | 'ACTIVATING'
    | 'RUNNING'
    | 'DEACTIVATING'
    | 'STOPPING'
    | 'DEPROVISIONING'
    | 'STOPPED';
  reason?: string;
  stopCode?:
    | 'TaskFailedToStart'
    | 'EssentialContainerExited'
    | 'UserInitiated'
    | 'ServiceSchedulerInitiated'
    | 'SpotInterruption'
    | 'TerminationNotice';
  containers: ContainerObservation[];
  attachments?: AttachmentStateChange[];
  eni?: EniObservation;
  healthStatus?: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  connectivityAt?: number;
  stoppingAt?: number;
  executionStoppedAt?: number;
  /** Attributes such as the ECS agent's `ecs.availability-zone` are not reported here. */
  extra?: KeyValuePair[];
}

export interface ReportMessage {
  type: 'report';
  /** Unique per report; the ack names it. */
  id: string;
  change: TaskStateReport;
}

export interface AckMessage {
  type: 'ack';
  id: string;
  /** false when the control plane refused the report for good (unknown task...): drop it anyway. */
  applied: boolean;
  error?: string;
}

/**
 * The host's container runtime is (un)usable: sent on every change and after each welcome.
 * The gateway records it as the container instance's healthStatus (CONTAINER_RUNTIME detail).
 */
export interface HealthMessage {
  type: 'health';
  containerRuntime: 'OK' | 'IMPAIRED';
  reason?: string;
}

export interface LogsOpenMessage {
  type: 'logs-open';
  streamId: string;
  taskArn: string;
  containerName?: string;
  follow: boolean;
  tail?: number;
}

export interface LogsCloseMessage {
  type: 'logs-close';
  streamId: string;
}

export interface LogsDataMessage {
  type: 'logs-data';
  streamId: string;
  containerName: string;
  stream: 'stdout' | 'stderr';
  /** UTF-8 text; a chunk may hold several lines. */
  data: string;
}

export interface LogsEndMessage {
  type: 'logs-end';
  streamId: string;
  error?: string;
}

export type AgentToServer = HelloMessage | ReportMessage | HealthMessage | LogsDataMessage | LogsEndMessage;
export type ServerToAgent = WelcomeMessage | TasksMessage | AckMessage | LogsOpenMessage | LogsCloseMessage;

const agentTypes = new Set(['hello', 'report', 'health', 'logs-data', 'logs-end']);
const serverTypes = new Set(['welcome', 'tasks', 'ack', 'logs-open', 'logs-close']);

function parse(raw: string, allowed: Set<string>): { type: string } | undefined {
  try {
    const m = JSON.parse(raw) as unknown;
    if (m && typeof m === 'object' && typeof (m as { type?: unknown }).type === 'string') {
      const t = (m as { type: string }).type;
      if (allowed.has(t)) return m as { type: string };
    }
  } catch {
    // not JSON: ignored by the caller
  }
  return undefined;
}

/** Parses a message from an agent; undefined for anything malformed (the gateway logs and drops it). */
export function parseAgentMessage(raw: string): AgentToServer | undefined {
  return parse(raw, agentTypes) as AgentToServer | undefined;
}

export function parseServerMessage(raw: string): ServerToAgent | undefined {
  return parse(raw, serverTypes) as ServerToAgent | undefined;
}
