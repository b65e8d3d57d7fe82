// The JSON documents of the task metadata endpoint (v4 and v3), computed from what the agent knows
// of a task. Pure: the server feeds snapshots in and writes the result out.
//
// Shapes follow the ECS agent's own response structs (agent/handlers/v2 TaskResponse and
// ContainerResponse, embedded by ecs-agent/tmds/handlers/v4/state): PascalCase members, absent
// rather than empty where the agent marks them `omitempty`, timestamps as ISO-8601 strings, task
// CPU in vCPUs and container CPU in CPU units (at least 2, as Docker's minimum shares), memory in
// MiB. v3 is the same document without what only v4 adds (LaunchType, ServiceName, the container's
// LogDriver/LogOptions/ContainerARN, HostIp of ports, the awsvpc interface details).
import { clusterNameFromRef } from '../../domain/arn.js';
import { SERVICE_TASK_GROUP_PREFIX } from '../../domain/service/ids.js';
import type { ContainerSnapshot, TaskSnapshot } from '../task-view.js';

export type MetadataVersion = 'v3' | 'v4';

export interface LimitsResponse {
  CPU?: number;
  Memory?: number;
}

export interface PortResponse {
  ContainerPort?: number;
  Protocol?: string;
  HostPort?: number;
  HostIp?: string;
}

export interface NetworkResponse {
  NetworkMode?: string;
  IPv4Addresses?: string[];
  // v4, awsvpc only:
  AttachmentIndex?: number;
  MACAddress?: string;
  IPv4SubnetCIDRBlock?: string;
  PrivateDNSName?: string;
  SubnetGatewayIpv4Address?: string;
}

export interface HealthResponse {
  status?: string;
  statusSince?: string;
  exitCode?: number;
  output?: string;
}

export interface ContainerResponse {
  DockerId: string;
  Name: string;
  DockerName: string;
  Image: string;
  ImageID: string;
  Ports?: PortResponse[];
  Labels?: Record<string, string>;
  DesiredStatus: string;
  KnownStatus: string;
  ExitCode?: number;
  Limits: LimitsResponse;
  CreatedAt?: string;
  StartedAt?: string;
  FinishedAt?: string;
  Type: string;
  Networks?: NetworkResponse[];
  Health?: HealthResponse;
  LogDriver?: string;
  LogOptions?: Record<string, string>;
  ContainerARN?: string;
}

export interface TaskResponse {
  Cluster: string;
  TaskARN: string;
  Family: string;
  Revision: string;
  DesiredStatus?: string;
  KnownStatus: string;
  Containers?: ContainerResponse[];
  Limits?: LimitsResponse;
  PullStartedAt?: string;
  PullStoppedAt?: string;
  ExecutionStoppedAt?: string;
  AvailabilityZone?: string;
  TaskTags?: Record<string, string>;
  ContainerInstanceTags?: Record<string, string>;
  LaunchType?: string;
  ServiceName?: string;
  /**
   * v4: the current ECS agent always writes it. Always false: Berth does not serve the fault
   * injection endpoints, so a task definition's enableFaultInjection must not promise them.
   */
  FaultInjectionEnabled?: boolean;
}

/** Docker refuses fewer CPU shares than this; the ECS agent reports the same floor. */
const MIN_CPU_SHARES = 2;

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();

/** Adds the entry only when the value is present (Go's `omitempty`). */
function put<T extends object, K extends keyof T>(o: T, k: K, v: T[K] | undefined): void {
  if (v === undefined) return;
  if (Array.isArray(v) && v.length === 0) return;
  if (typeof v === 'string' && v === '') return;
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0) return;
  o[k] = v;
}

/**
 * Task-level CPU in vCPUs. Accepts what a task definition may hold: CPU units ("256"), or
 * "0.25 vCPU" / "1 vcpu".
 */
export function taskCpuVcpus(cpu: string | undefined): number | undefined {
  if (cpu === undefined) return undefined;
  const s = cpu.trim();
  const v = /^([0-9]+(?:\.[0-9]+)?)\s*vcpu$/i.exec(s);
  if (v) return Number(v[1]);
  if (!/^[0-9]+(?:\.[0-9]+)?$/.test(s)) return undefined;
  const units = Number(s);
  return units > 0 ? units / 1024 : undefined;
}

/** Task-level memory in MiB, from "512" (MiB) or "1 GB" / "0.5GB". */
export function taskMemoryMiB(memory: string | undefined): number | undefined {
  if (memory === undefined) return undefined;
  const s = memory.trim();
  const g = /^([0-9]+(?:\.[0-9]+)?)\s*gb$/i.exec(s);
  if (g) return Math.round(Number(g[1]) * 1024);
  if (!/^[0-9]+$/.test(s)) return undefined;
  const mib = Number(s);
  return mib > 0 ? mib : undefined;
}

/**
 * The ECS agent's container statuses (NONE, CREATED, RUNNING, STOPPED...) rather than the
 * backend's PENDING: a pending container with an engine id has been created.
 */
function containerKnownStatus(c: ContainerSnapshot): string {
  switch (c.knownStatus) {
    case 'PENDING':
      return c.dockerId ? 'CREATED' : 'NONE';
    case 'RUNNING':
    case 'STOPPED':
      return c.knownStatus;
    default: {
      const never: never = c.knownStatus;
      return String(never);
    }
  }
}

/** `10.0.2.0/24` → `10.0.2.1/24`: the VPC convention (and Docker's default) for a subnet's gateway. */
export function subnetGatewayOf(cidr: string | undefined): string | undefined {
  if (!cidr) return undefined;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const prefix = Number(m[5]);
  const octets = [m[1], m[2], m[3], m[4]].map(Number);
  if (prefix > 30 || octets.some((o) => o > 255)) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const gw = ((base & mask) >>> 0) + 1;
  return `${[gw >>> 24, (gw >>> 16) & 255, (gw >>> 8) & 255, gw & 255].join('.')}/${prefix}`;
}

function isAwsvpc(task: TaskSnapshot): boolean {
  return task.task.taskDefinition.networkMode === 'awsvpc';
}

function networksOf(task: TaskSnapshot, c: ContainerSnapshot, version: MetadataVersion): NetworkResponse[] {
  const awsvpc = isAwsvpc(task);
  return c.networks.map((n) => {
    const out: NetworkResponse = {};
    put(out, 'NetworkMode', n.networkMode);
    put(out, 'IPv4Addresses', n.ipv4Addresses.length ? [...n.ipv4Addresses] : undefined);
    if (version === 'v4' && awsvpc && n.networkMode === 'awsvpc') {
      // One interface per task: always the task's first (and only) attachment.
      out.AttachmentIndex = 0;
      put(out, 'MACAddress', task.eni?.macAddress);
      put(out, 'IPv4SubnetCIDRBlock', n.ipv4SubnetCidrBlock);
      put(out, 'PrivateDNSName', task.eni?.privateDnsName);
      put(out, 'SubnetGatewayIpv4Address', subnetGatewayOf(n.ipv4SubnetCidrBlock));
    }
    return out;
  });
}

function portsOf(task: TaskSnapshot, c: ContainerSnapshot, version: MetadataVersion): PortResponse[] {
  const awsvpc = isAwsvpc(task);
  return c.ports.map((p) => {
    const out: PortResponse = {};
    put(out, 'ContainerPort', p.containerPort || undefined);
    put(out, 'Protocol', p.protocol);
    // awsvpc tasks own their interface: the port is reachable at the same number on the task's IP.
    put(out, 'HostPort', (awsvpc ? p.containerPort : p.hostPort) || undefined);
    if (version === 'v4') put(out, 'HostIp', p.hostIp);
    return out;
  });
}

export function containerResponse(
  task: TaskSnapshot,
  c: ContainerSnapshot,
  version: MetadataVersion,
): ContainerResponse {
  const out: ContainerResponse = {
    DockerId: c.dockerId ?? '',
    Name: c.name,
    DockerName: c.dockerName ?? '',
    Image: c.image,
    ImageID: c.imageId ?? '',
    DesiredStatus: c.desiredStatus,
    KnownStatus: containerKnownStatus(c),
    Limits: {
      CPU: Math.max(c.limits.cpu ?? 0, MIN_CPU_SHARES),
      Memory: c.limits.memory ?? 0,
    },
    Type: c.type,
  };
  put(out, 'Ports', portsOf(task, c, version));
  put(out, 'Labels', { ...c.labels });
  put(out, 'ExitCode', c.exitCode);
  put(out, 'CreatedAt', iso(c.createdAt));
  put(out, 'StartedAt', iso(c.startedAt));
  put(out, 'FinishedAt', iso(c.finishedAt));
  put(out, 'Networks', networksOf(task, c, version));
  if (c.health) {
    const h: HealthResponse = { status: c.health.status };
    put(h, 'statusSince', iso(c.health.since));
    put(h, 'exitCode', c.health.exitCode || undefined);
    put(h, 'output', c.health.output);
    out.Health = h;
  }
  if (version === 'v4') {
    put(out, 'LogDriver', c.logDriver);
    put(out, 'LogOptions', c.logOptions ? { ...c.logOptions } : undefined);
    put(out, 'ContainerARN', c.containerArn);
  }
  return out;
}

/** ECS shows the cluster ARN on Fargate and the configured cluster name on instances. */
function clusterOf(task: TaskSnapshot): string {
  if (task.task.launchType === 'FARGATE') return task.task.clusterArn;
  return clusterNameFromRef(task.task.clusterArn) ?? task.task.clusterArn;
}

export function taskResponse(
  task: TaskSnapshot,
  version: MetadataVersion,
  opts: { withTags?: boolean } = {},
): TaskResponse {
  const t = task.task;
  const out: TaskResponse = {
    Cluster: clusterOf(task),
    TaskARN: t.taskArn,
    Family: t.taskDefinition.family ?? '',
    Revision: String(t.taskDefinition.revision ?? ''),
    KnownStatus: task.knownStatus,
  };
  put(out, 'DesiredStatus', task.desiredStatus);
  put(
    out,
    'Containers',
    task.containers.map((c) => containerResponse(task, c, version)),
  );
  const limits: LimitsResponse = {};
  put(limits, 'CPU', taskCpuVcpus(t.cpu));
  put(limits, 'Memory', taskMemoryMiB(t.memory));
  put(out, 'Limits', limits);
  put(out, 'PullStartedAt', iso(task.pullStartedAt));
  put(out, 'PullStoppedAt', iso(task.pullStoppedAt));
  put(out, 'ExecutionStoppedAt', iso(task.executionStoppedAt));
  put(out, 'AvailabilityZone', task.availabilityZone ?? t.availabilityZone);
  if (opts.withTags) {
    put(out, 'TaskTags', Object.fromEntries(t.tags.map((tag) => [tag.key ?? '', tag.value ?? ''])));
  }
  if (version === 'v4') {
    put(out, 'LaunchType', t.launchType);
    if (t.group?.startsWith(SERVICE_TASK_GROUP_PREFIX))
      put(out, 'ServiceName', t.group.slice(SERVICE_TASK_GROUP_PREFIX.length));
    out.FaultInjectionEnabled = false;
  }
  return out;
}
