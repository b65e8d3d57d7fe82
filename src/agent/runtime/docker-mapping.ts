// Pure translation between Berth's runtime vocabulary and Docker Engine API JSON (API ≥ 1.41):
// ContainerSpec → create body, inspect/list/event/stats/network/image JSON → Berth types.
// No I/O here, so every mapping rule is unit-tested without an engine.
import type Dockerode from 'dockerode';
import {
  containerEventActions,
  type AssignedPort,
  type ContainerEvent,
  type ContainerEventAction,
  type ContainerHealth,
  type ContainerNetwork,
  type ContainerSpec,
  type ContainerState,
  type ContainerStats,
  type ContainerStatus,
  type ContainerSummary,
  type HealthCheckSpec,
  type HealthStatus,
  type ImageInfo,
  type LabelSelector,
  type NetworkInfo,
  type Protocol,
  type VolumeInfo,
} from './container-runtime.js';
import { CannotCreateContainerError } from './errors.js';

const MiB = 1024 * 1024;
const nsPerMs = 1_000_000;

/** ECS container health-check defaults (ECS-SEMANTICS §4). */
export const healthCheckDefaults = {
  intervalMs: 30_000,
  timeoutMs: 5_000,
  retries: 3,
  startPeriodMs: 0,
} as const;

// ---------------------------------------------------------------------------------------------
// ContainerSpec → POST /containers/create body

export function toDockerHealthcheck(h: HealthCheckSpec): Dockerode.HealthConfig {
  const [kind, ...rest] = h.command;
  if (kind === 'NONE') return { Test: ['NONE'] };
  if (kind !== 'CMD' && kind !== 'CMD-SHELL') {
    throw new CannotCreateContainerError(
      `healthCheck.command must start with CMD, CMD-SHELL or NONE, got ${JSON.stringify(kind ?? null)}`,
      { kind: 'invalid' },
    );
  }
  if (rest.length === 0) {
    throw new CannotCreateContainerError(`healthCheck.command ${kind} needs a command after it`, {
      kind: 'invalid',
    });
  }
  // CMD-SHELL takes one shell string; ECS task definitions sometimes split it, so rejoin.
  const test = kind === 'CMD-SHELL' ? ['CMD-SHELL', rest.join(' ')] : ['CMD', ...rest];
  return {
    Test: test,
    Interval: (h.intervalMs ?? healthCheckDefaults.intervalMs) * nsPerMs,
    Timeout: (h.timeoutMs ?? healthCheckDefaults.timeoutMs) * nsPerMs,
    Retries: h.retries ?? healthCheckDefaults.retries,
    StartPeriod: (h.startPeriodMs ?? healthCheckDefaults.startPeriodMs) * nsPerMs,
  };
}

function dockerNetworkMode(spec: ContainerSpec): string {
  const m = spec.networkMode ?? 'bridge';
  if (m === 'isolated') return 'none';
  if (typeof m === 'string') return m;
  if ('container' in m) return `container:${m.container}`;
  return m.network;
}

/** Docker publishes ports only where the container has its own namespace on a bridge. */
function publishesPorts(spec: ContainerSpec): boolean {
  const m = spec.networkMode ?? 'bridge';
  return m === 'bridge' || (typeof m === 'object' && 'network' in m);
}

export function toDockerCreateBody(spec: ContainerSpec): Dockerode.ContainerCreateOptions {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of spec.portBindings ?? []) {
    const key = `${p.containerPort}/${p.protocol ?? 'tcp'}`;
    exposed[key] = {};
    if (!publishesPorts(spec)) continue;
    const hostPort = p.hostPort && p.hostPort > 0 ? String(p.hostPort) : '';
    (bindings[key] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: hostPort });
  }

  const binds: string[] = [];
  const tmpfs: Record<string, string> = {};
  for (const m of spec.mounts ?? []) {
    switch (m.type) {
      case 'bind':
      case 'volume':
        // Binds (not Mounts): a missing host directory is created, as ECS host volumes expect.
        binds.push(`${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`);
        break;
      case 'tmpfs': {
        const opts = [...(m.options ?? [])];
        if (m.sizeMiB !== undefined) opts.push(`size=${m.sizeMiB}m`);
        tmpfs[m.target] = opts.join(',');
        break;
      }
      default: {
        const never: never = m;
        throw new Error(`unknown mount ${JSON.stringify(never)}`);
      }
    }
  }

  const memory = spec.memoryMiB !== undefined ? spec.memoryMiB * MiB : undefined;
  const hostConfig: Dockerode.HostConfig = {
    NetworkMode: dockerNetworkMode(spec),
    PortBindings: bindings,
    Binds: binds.length > 0 ? binds : undefined,
    Tmpfs: Object.keys(tmpfs).length > 0 ? tmpfs : undefined,
    VolumesFrom: spec.volumesFrom?.map((v) => `${v.container}:${v.readOnly ? 'ro' : 'rw'}`),
    Links: spec.links?.map((l) => `${l.container}:${l.alias ?? l.container}`),
    Ulimits: spec.ulimits?.map((u) => ({ Name: u.name, Soft: u.softLimit, Hard: u.hardLimit })),
    ReadonlyRootfs: spec.readonlyRootfs,
    Privileged: spec.privileged,
    CapAdd: spec.capAdd,
    CapDrop: spec.capDrop,
    Dns: spec.dnsServers,
    DnsSearch: spec.dnsSearchDomains,
    ExtraHosts: spec.extraHosts?.map((h) => `${h.hostname}:${h.ipAddress}`),
    CpuShares: spec.cpuShares,
    Memory: memory,
    MemoryReservation: spec.memoryReservationMiB !== undefined ? spec.memoryReservationMiB * MiB : undefined,
    // Docker's MemorySwap is memory + swap; it needs a memory limit to mean anything.
    MemorySwap:
      spec.maxSwapMiB !== undefined && memory !== undefined ? memory + spec.maxSwapMiB * MiB : undefined,
    MemorySwappiness: spec.swappiness,
    NanoCpus: spec.nanoCpus,
    CpuQuota: spec.cpuQuota?.quotaMicros,
    CpuPeriod: spec.cpuQuota?.periodMicros,
    CgroupParent: spec.cgroupParent,
    Init: spec.init,
    LogConfig: {
      Type: spec.logConfig?.driver ?? 'json-file',
      Config: spec.logConfig?.options ?? {},
    },
    SecurityOpt: spec.securityOptions,
    Sysctls: spec.sysctls,
    ShmSize: spec.shmSizeMiB !== undefined ? spec.shmSizeMiB * MiB : undefined,
    Devices: spec.devices?.map((d) => ({
      PathOnHost: d.hostPath,
      PathInContainer: d.containerPath ?? d.hostPath,
      CgroupPermissions: d.permissions ?? 'rwm',
    })),
    PidMode: spec.pidMode,
    IpcMode: spec.ipcMode,
  };

  const mode = spec.networkMode;
  const networking =
    typeof mode === 'object' && 'network' in mode
      ? {
          EndpointsConfig: {
            [mode.network]: {
              ...(mode.ipv4Address ? { IPAMConfig: { IPv4Address: mode.ipv4Address } } : {}),
              ...(mode.aliases ? { Aliases: mode.aliases } : {}),
            },
          },
        }
      : undefined;

  return dropUndefined({
    name: spec.name,
    Image: spec.image,
    Cmd: spec.command,
    Entrypoint: spec.entryPoint,
    Env: spec.env ? Object.entries(spec.env).map(([k, v]) => `${k}=${v}`) : undefined,
    WorkingDir: spec.workingDir,
    User: spec.user,
    Labels: spec.labels ?? {},
    Hostname: spec.hostname,
    // Without it Docker would still make a sandbox (netns + its IPv6 set-up) for 'none'.
    NetworkDisabled: spec.networkMode === 'isolated' ? true : undefined,
    ExposedPorts: exposed,
    StopTimeout: spec.stopTimeoutSeconds,
    Healthcheck: spec.healthCheck ? toDockerHealthcheck(spec.healthCheck) : undefined,
    Tty: spec.tty,
    OpenStdin: spec.interactive,
    HostConfig: dropUndefined(hostConfig),
    NetworkingConfig: networking,
  });
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

// ---------------------------------------------------------------------------------------------
// Docker JSON → Berth types. Input shapes list only the fields read, all optional, because the
// engine omits or nulls fields freely across versions.

/** Docker writes "0001-01-01T00:00:00Z" for "never"; that becomes undefined. */
export function parseDockerTime(s: string | undefined | null): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) && t > 0 ? t : undefined;
}

export function toContainerStatus(engineStatus: string): ContainerStatus {
  switch (engineStatus) {
    case 'created':
      return 'created';
    // The process exists in all three; paused and restarting are transient here (no restart policy).
    case 'running':
    case 'paused':
    case 'restarting':
      return 'running';
    default:
      // exited, dead, removing: the process is gone.
      return 'exited';
  }
}

const trimName = (n: string | undefined): string => (n ?? '').replace(/^\//, '');

export interface DockerInspectJson {
  Id: string;
  Name?: string;
  Image?: string;
  Created?: string;
  State?: {
    Status?: string;
    Pid?: number;
    ExitCode?: number;
    Error?: string;
    OOMKilled?: boolean;
    StartedAt?: string;
    FinishedAt?: string;
    Health?: {
      Status?: string;
      FailingStreak?: number;
      Log?: { ExitCode?: number; Output?: string }[] | null;
    } | null;
  };
  Config?: { Image?: string; Labels?: Record<string, string> | null; Tty?: boolean };
  NetworkSettings?: {
    Ports?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
    Networks?: Record<
      string,
      { NetworkID?: string; IPAddress?: string; IPPrefixLen?: number; Gateway?: string; MacAddress?: string }
    > | null;
  };
}

function toHealth(
  h: NonNullable<NonNullable<DockerInspectJson['State']>['Health']>,
): ContainerHealth | undefined {
  const status = h.Status;
  if (status !== 'starting' && status !== 'healthy' && status !== 'unhealthy') return undefined;
  const last = h.Log && h.Log.length > 0 ? h.Log[h.Log.length - 1] : undefined;
  return {
    status,
    failingStreak: h.FailingStreak ?? 0,
    ...(last?.Output !== undefined ? { lastOutput: last.Output.trim() } : {}),
    ...(last?.ExitCode !== undefined ? { lastExitCode: last.ExitCode } : {}),
  };
}

export function toAssignedPorts(
  ports: NonNullable<DockerInspectJson['NetworkSettings']>['Ports'],
): AssignedPort[] {
  const out: AssignedPort[] = [];
  const seen = new Set<string>();
  for (const [key, list] of Object.entries(ports ?? {})) {
    const [portText, proto] = key.split('/');
    const containerPort = Number(portText);
    const protocol: Protocol = proto === 'udp' ? 'udp' : 'tcp';
    for (const b of list ?? []) {
      const hostPort = Number(b.HostPort);
      if (!Number.isInteger(hostPort) || hostPort <= 0) continue;
      const hostIp = b.HostIp || '0.0.0.0';
      const id = `${containerPort}/${protocol}/${hostIp}/${hostPort}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push({ containerPort, protocol, hostPort, hostIp });
    }
  }
  return out;
}

export function fromDockerInspect(j: DockerInspectJson): ContainerState {
  const st = j.State ?? {};
  const engineStatus = st.Status ?? 'created';
  const status = toContainerStatus(engineStatus);
  const networks: ContainerNetwork[] = Object.entries(j.NetworkSettings?.Networks ?? {}).map(([name, n]) => ({
    name,
    ...(n.NetworkID ? { networkId: n.NetworkID } : {}),
    ...(n.IPAddress ? { ipv4Address: n.IPAddress } : {}),
    ...(n.IPAddress && n.IPPrefixLen ? { ipv4PrefixLength: n.IPPrefixLen } : {}),
    ...(n.Gateway ? { gateway: n.Gateway } : {}),
    ...(n.MacAddress ? { macAddress: n.MacAddress } : {}),
  }));
  const health = st.Health ? toHealth(st.Health) : undefined;
  const startedAt = parseDockerTime(st.StartedAt);
  const finishedAt = parseDockerTime(st.FinishedAt);
  return {
    id: j.Id,
    name: trimName(j.Name),
    image: j.Config?.Image ?? '',
    imageId: j.Image ?? '',
    status,
    engineStatus,
    ...(status === 'exited' && st.ExitCode !== undefined ? { exitCode: st.ExitCode } : {}),
    ...(st.Error ? { error: st.Error } : {}),
    oomKilled: st.OOMKilled ?? false,
    createdAt: parseDockerTime(j.Created) ?? 0,
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(finishedAt !== undefined && status === 'exited' ? { finishedAt } : {}),
    ...(status === 'running' && st.Pid ? { pid: st.Pid } : {}),
    ...(health ? { health } : {}),
    ports: status === 'running' ? toAssignedPorts(j.NetworkSettings?.Ports) : [],
    networks,
    labels: { ...(j.Config?.Labels ?? {}) },
  };
}

export interface DockerSummaryJson {
  Id: string;
  Names?: string[];
  Image?: string;
  ImageID?: string;
  State?: string;
  Labels?: Record<string, string> | null;
  Created?: number;
}

export function fromDockerSummary(c: DockerSummaryJson): ContainerSummary {
  const engineStatus = c.State ?? 'created';
  return {
    id: c.Id,
    name: trimName(c.Names?.[0]),
    image: c.Image ?? '',
    imageId: c.ImageID ?? '',
    status: toContainerStatus(engineStatus),
    engineStatus,
    labels: { ...(c.Labels ?? {}) },
    createdAt: (c.Created ?? 0) * 1000,
  };
}

/** Docker's `label` filter values: `key` or `key=value`. */
export function toDockerLabelFilter(selector: LabelSelector | undefined): string[] {
  return Object.entries(selector ?? {}).map(([k, v]) => (v === true ? k : `${k}=${v}`));
}

export interface DockerEventJson {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> | null };
  time?: number;
  timeNano?: number;
}

// Event attributes the engine adds beside the container's labels.
const engineAttributes = new Set(['name', 'image', 'exitCode', 'signal', 'execID', 'execDuration']);
const knownActions = new Set<string>(containerEventActions);

/**
 * A Docker event as a ContainerEvent; undefined for events Berth does not follow (exec_*,
 * attach, resize, non-container types). `health_status: healthy` splits into action and status.
 */
export function parseDockerEvent(j: DockerEventJson): ContainerEvent | undefined {
  if (j.Type !== 'container' || !j.Action || !j.Actor?.ID) return undefined;
  const [actionWord, detail] = j.Action.split(':', 2).map((s) => s.trim());
  if (!actionWord || !knownActions.has(actionWord)) return undefined;
  const action = actionWord as ContainerEventAction;
  const attrs = j.Actor.Attributes ?? {};
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (!engineAttributes.has(k)) labels[k] = v;
  const time = j.timeNano !== undefined ? j.timeNano / nsPerMs : (j.time ?? 0) * 1000;
  const event: ContainerEvent = { type: 'container', action, containerId: j.Actor.ID, labels, time };
  if (attrs.name !== undefined) event.name = attrs.name;
  if (attrs.image !== undefined) event.image = attrs.image;
  if (action === 'die' && attrs.exitCode !== undefined) event.exitCode = Number(attrs.exitCode);
  if (action === 'kill' && attrs.signal !== undefined) event.signal = attrs.signal;
  if (action === 'health_status') {
    if (detail !== 'starting' && detail !== 'healthy' && detail !== 'unhealthy') return undefined;
    event.health = detail satisfies HealthStatus;
  }
  return event;
}

export interface DockerImageJson {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Size?: number;
  Created?: string;
  Os?: string;
  Architecture?: string;
  Config?: {
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Env?: string[] | null;
    WorkingDir?: string;
    User?: string;
    ExposedPorts?: Record<string, unknown> | null;
    Labels?: Record<string, string> | null;
    StopSignal?: string;
    Healthcheck?: {
      Test?: string[];
      Interval?: number;
      Timeout?: number;
      Retries?: number;
      StartPeriod?: number;
    };
  } | null;
}

export function fromDockerImage(j: DockerImageJson): ImageInfo {
  const c = j.Config ?? {};
  const hc = c.Healthcheck;
  const createdAt = parseDockerTime(j.Created);
  return {
    id: j.Id,
    repoTags: j.RepoTags ?? [],
    repoDigests: j.RepoDigests ?? [],
    sizeBytes: j.Size ?? 0,
    ...(createdAt !== undefined ? { createdAt } : {}),
    ...(j.Os ? { os: j.Os } : {}),
    ...(j.Architecture ? { architecture: j.Architecture } : {}),
    config: {
      ...(c.Entrypoint ? { entryPoint: c.Entrypoint } : {}),
      ...(c.Cmd ? { command: c.Cmd } : {}),
      env: c.Env ?? [],
      ...(c.WorkingDir ? { workingDir: c.WorkingDir } : {}),
      ...(c.User ? { user: c.User } : {}),
      exposedPorts: Object.keys(c.ExposedPorts ?? {}),
      labels: { ...(c.Labels ?? {}) },
      ...(c.StopSignal ? { stopSignal: c.StopSignal } : {}),
      ...(hc?.Test
        ? {
            healthCheck: {
              test: hc.Test,
              ...(hc.Interval ? { intervalMs: hc.Interval / nsPerMs } : {}),
              ...(hc.Timeout ? { timeoutMs: hc.Timeout / nsPerMs } : {}),
              ...(hc.Retries ? { retries: hc.Retries } : {}),
              ...(hc.StartPeriod ? { startPeriodMs: hc.StartPeriod / nsPerMs } : {}),
            },
          }
        : {}),
    },
  };
}

export interface DockerNetworkJson {
  Id: string;
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null } | null;
  Containers?: Record<string, { Name?: string; IPv4Address?: string; MacAddress?: string }> | null;
}

export function fromDockerNetwork(j: DockerNetworkJson): NetworkInfo {
  return {
    id: j.Id,
    name: j.Name,
    driver: j.Driver ?? '',
    internal: j.Internal ?? false,
    labels: { ...(j.Labels ?? {}) },
    ...(j.Options && Object.keys(j.Options).length > 0 ? { options: { ...j.Options } } : {}),
    subnets: (j.IPAM?.Config ?? [])
      .filter((c) => c.Subnet)
      .map((c) => ({ subnet: c.Subnet as string, ...(c.Gateway ? { gateway: c.Gateway } : {}) })),
    containers: Object.entries(j.Containers ?? {}).map(([containerId, c]) => ({
      containerId,
      name: c.Name ?? '',
      // Docker reports the address with its prefix length ("10.1.2.3/24").
      ...(c.IPv4Address ? { ipv4Address: c.IPv4Address.split('/')[0] } : {}),
      ...(c.MacAddress ? { macAddress: c.MacAddress } : {}),
    })),
  };
}

export interface DockerVolumeJson {
  Name: string;
  Driver?: string;
  Mountpoint?: string;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
}

export function fromDockerVolume(j: DockerVolumeJson): VolumeInfo {
  return {
    name: j.Name,
    driver: j.Driver ?? 'local',
    mountpoint: j.Mountpoint ?? '',
    labels: { ...(j.Labels ?? {}) },
    options: { ...(j.Options ?? {}) },
  };
}

interface DockerStatsJson {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  memory_stats?: { usage?: number; limit?: number };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }> | null;
}

export function fromDockerStats(raw: Record<string, unknown>): ContainerStats {
  const j = raw as DockerStatsJson;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(j.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  return {
    read: parseDockerTime(j.read) ?? 0,
    cpuTotalUsageNs: j.cpu_stats?.cpu_usage?.total_usage ?? 0,
    ...(j.cpu_stats?.system_cpu_usage !== undefined
      ? { systemCpuUsageNs: j.cpu_stats.system_cpu_usage }
      : {}),
    ...(j.cpu_stats?.online_cpus !== undefined ? { onlineCpus: j.cpu_stats.online_cpus } : {}),
    memoryUsageBytes: j.memory_stats?.usage ?? 0,
    memoryLimitBytes: j.memory_stats?.limit ?? 0,
    networkRxBytes: rx,
    networkTxBytes: tx,
    raw,
  };
}
