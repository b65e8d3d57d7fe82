// The seam between the agent's task runner and a container engine. The runner speaks only this
// interface: DockerRuntime drives a real engine, FakeRuntime an in-memory one for unit tests and
// scale simulation. Types here are Berth's vocabulary (MiB, milliseconds, typed network modes);
// the Docker mapping lives in docker-mapping.ts. Every method throws only errors from errors.ts.

// ---------------------------------------------------------------------------------------------
// Images

/** When to contact the registry. ECS's ECS_IMAGE_PULL_BEHAVIOR maps onto these. */
export type PullPolicy =
  /** Always pull; a registry failure fails the pull (ECS `always`). */
  | 'always'
  /** Use the local image if present, pull otherwise (ECS `prefer-cached`). */
  | 'if-not-present'
  /** Never contact a registry; a missing image is a pull failure. */
  | 'never'
  /** Pull, but fall back to a local copy when the registry fails (ECS `default`). */
  | 'remote-or-cached';

export interface RegistryAuth {
  username?: string;
  password?: string;
  /** Registry host, e.g. `127.0.0.1:5000`; defaults to the image reference's registry. */
  serverAddress?: string;
  /** OAuth identity token (instead of username/password). */
  identityToken?: string;
  /** Bearer token already issued by the registry. */
  registryToken?: string;
}

export interface PullOptions {
  /** Default 'always'. */
  policy?: PullPolicy;
  auth?: RegistryAuth;
}

export interface PullResult {
  /** Local image id (`sha256:...`) of the image now present. */
  imageId: string;
  /** True when a registry delivered the image during this call. */
  pulled: boolean;
  /** Set when policy 'remote-or-cached' used the local copy because the registry failed. */
  fallbackReason?: string;
  /** The image's own entrypoint and command (what a container runs unless told otherwise). */
  imageCommand: ImageCommand;
}

export interface ImageCommand {
  entryPoint?: string[];
  command?: string[];
}

export interface ImageHealthCheck {
  test: string[];
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
  startPeriodMs?: number;
}

export interface ImageInfo {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  sizeBytes: number;
  createdAt?: number;
  os?: string;
  architecture?: string;
  config: {
    entryPoint?: string[];
    command?: string[];
    env: string[];
    workingDir?: string;
    user?: string;
    /** `80/tcp` style keys. */
    exposedPorts: string[];
    labels: Record<string, string>;
    stopSignal?: string;
    healthCheck?: ImageHealthCheck;
  };
}

// ---------------------------------------------------------------------------------------------
// Containers: what the runner asks for

export type Protocol = 'tcp' | 'udp';

export interface PortBinding {
  containerPort: number;
  /** 0 or absent: the engine picks a free ephemeral port (ECS dynamic port mapping). */
  hostPort?: number;
  /** Default 'tcp'. */
  protocol?: Protocol;
  /** Host address to bind; default all addresses. */
  hostIp?: string;
}

export type NetworkMode =
  | 'bridge'
  | 'host'
  | 'none'
  /**
   * A namespace of its own that the engine does not network at all (Docker's NetworkDisabled):
   * only loopback, no resolv.conf or hosts from the engine. The agent plumbs it (awsvpc).
   */
  | 'isolated'
  /** Share another container's network namespace (the awsvpc "pause" container pattern). */
  | { container: string }
  /** A user-defined network, optionally with a fixed address on it. */
  | { network: string; ipv4Address?: string; aliases?: string[] };

export type Mount =
  /** A host directory; created on the host if missing (as Docker's -v and the ECS agent do). */
  | { type: 'bind'; source: string; target: string; readOnly?: boolean }
  /** A named engine volume; created with default options if missing. */
  | { type: 'volume'; source: string; target: string; readOnly?: boolean }
  | { type: 'tmpfs'; target: string; sizeMiB?: number; options?: string[] };

export interface Ulimit {
  name: string;
  softLimit: number;
  hardLimit: number;
}

export interface HealthCheckSpec {
  /** ECS form: `['CMD-SHELL', 'curl -f http://localhost/']`, `['CMD', 'bin', 'arg']` or `['NONE']`. */
  command: string[];
  /** Defaults follow ECS: interval 30 s, timeout 5 s, retries 3, start period 0. */
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
  startPeriodMs?: number;
}

export interface LogConfig {
  /** Docker log driver; 'json-file' keeps `logs()` working. */
  driver: string;
  options?: Record<string, string>;
}

export interface DeviceMapping {
  hostPath: string;
  containerPath?: string;
  /** Any of r, w, m. Default 'rwm'. */
  permissions?: string;
}

/** A container as Berth describes it. Unset fields keep the image's or the engine's default. */
export interface ContainerSpec {
  /** Engine-level name, unique on the host (the runner derives it from the task and container). */
  name: string;
  image: string;
  /** Arguments (Docker Cmd). */
  command?: string[];
  /** Docker Entrypoint. */
  entryPoint?: string[];
  /** Applied in insertion order. */
  env?: Record<string, string>;
  workingDir?: string;
  /** `user`, `uid`, `user:group` or `uid:gid`. */
  user?: string;
  labels?: Record<string, string>;
  hostname?: string;
  portBindings?: PortBinding[];
  /** Default 'bridge'. Ports are published only in bridge and user-network modes. */
  networkMode?: NetworkMode;
  /** Legacy bridge links to other containers on this host. */
  links?: { container: string; alias?: string }[];
  mounts?: Mount[];
  volumesFrom?: { container: string; readOnly?: boolean }[];
  ulimits?: Ulimit[];
  readonlyRootfs?: boolean;
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  dnsServers?: string[];
  dnsSearchDomains?: string[];
  extraHosts?: { hostname: string; ipAddress: string }[];
  /** Relative CPU weight (Docker CpuShares; the engine's minimum is 2). */
  cpuShares?: number;
  /** Hard memory limit in MiB: the container is OOM-killed above it. */
  memoryMiB?: number;
  /** Soft limit in MiB: reclaimed towards under host memory pressure. Must be ≤ memoryMiB. */
  memoryReservationMiB?: number;
  /** Swap allowed beyond memoryMiB (ECS linuxParameters.maxSwap); 0 disables swap. */
  maxSwapMiB?: number;
  /** 0–100 (ECS linuxParameters.swappiness). */
  swappiness?: number;
  /** CPU cap in billionths of a CPU (1e9 = one CPU). Exclusive with cpuQuota. */
  nanoCpus?: number;
  /** CPU cap as CFS quota/period in microseconds. Exclusive with nanoCpus. */
  cpuQuota?: { quotaMicros: number; periodMicros: number };
  /** Parent cgroup, for task-level limits shared by the task's containers. */
  cgroupParent?: string;
  /** Run an init process as PID 1 that reaps zombies and forwards signals. */
  init?: boolean;
  /** Seconds between SIGTERM and SIGKILL when stopped without an explicit timeout. */
  stopTimeoutSeconds?: number;
  healthCheck?: HealthCheckSpec;
  /** Default json-file. */
  logConfig?: LogConfig;
  tty?: boolean;
  /** Keep stdin open (ECS `interactive`). */
  interactive?: boolean;
  securityOptions?: string[];
  sysctls?: Record<string, string>;
  shmSizeMiB?: number;
  devices?: DeviceMapping[];
  /** 'host', or `container:<id>` to share a task peer's namespace. */
  pidMode?: string;
  ipcMode?: string;
}

// ---------------------------------------------------------------------------------------------
// Containers: what the engine reports

export type ContainerStatus = 'created' | 'running' | 'exited';
export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface AssignedPort {
  containerPort: number;
  protocol: Protocol;
  hostPort: number;
  hostIp: string;
}

export interface ContainerNetwork {
  /** Network name (`bridge`, `host`, or a user network). */
  name: string;
  networkId?: string;
  ipv4Address?: string;
  ipv4PrefixLength?: number;
  gateway?: string;
  macAddress?: string;
}

export interface ContainerHealth {
  status: HealthStatus;
  failingStreak: number;
  /** Output of the latest probe, for the container's `reason` when it turns unhealthy. */
  lastOutput?: string;
  lastExitCode?: number;
}

export interface ContainerState {
  id: string;
  name: string;
  image: string;
  imageId: string;
  status: ContainerStatus;
  /** The engine's own status word (created, running, paused, restarting, removing, exited, dead). */
  engineStatus: string;
  /** Set once the container has exited. */
  exitCode?: number;
  /** Why the last start failed, as the engine recorded it. */
  error?: string;
  oomKilled: boolean;
  /** Epoch milliseconds. */
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Host PID of the container's init process while running. */
  pid?: number;
  /** Absent when the container has no health check. */
  health?: ContainerHealth;
  /** Host ports actually bound (dynamic ones resolved); empty once the container stops. */
  ports: AssignedPort[];
  networks: ContainerNetwork[];
  labels: Record<string, string>;
}

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  imageId: string;
  status: ContainerStatus;
  engineStatus: string;
  labels: Record<string, string>;
  createdAt: number;
}

/**
 * Label selector: every entry must match. A string matches that exact value; `true` matches any
 * value of a present label.
 */
export type LabelSelector = Record<string, string | true>;

export interface ListContainersOptions {
  labels?: LabelSelector;
  /** Include stopped and created containers (default true: re-adoption needs them all). */
  all?: boolean;
}

export interface StopResult {
  /** False when the container had already stopped. */
  stopped: boolean;
}

export interface RemoveOptions {
  /** Kill a running container first. */
  force?: boolean;
  /** Also remove anonymous volumes. */
  removeVolumes?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Events, logs, stats

export type ContainerEventAction =
  | 'create'
  | 'start'
  | 'die'
  | 'kill'
  | 'oom'
  | 'stop'
  | 'destroy'
  | 'health_status'
  | 'pause'
  | 'unpause'
  | 'restart';

export const containerEventActions: readonly ContainerEventAction[] = [
  'create',
  'start',
  'die',
  'kill',
  'oom',
  'stop',
  'destroy',
  'health_status',
  'pause',
  'unpause',
  'restart',
];

export interface ContainerEvent {
  type: 'container';
  action: ContainerEventAction;
  containerId: string;
  name?: string;
  image?: string;
  /** The container's labels (engine attributes such as name and image removed). */
  labels: Record<string, string>;
  /** `die`: the exit code. */
  exitCode?: number;
  /** `kill`: the signal number or name sent. */
  signal?: string;
  /** `health_status`: the new status. */
  health?: HealthStatus;
  /** Epoch milliseconds (fractions carry the engine's sub-millisecond order). */
  time: number;
}

/**
 * The event stream's own state. After `connected` with `resumed: true` events may have been
 * missed (the engine restarted or the link dropped): consumers re-inspect what they own.
 */
export type StreamEvent =
  | { type: 'stream'; state: 'connected'; resumed: boolean }
  | { type: 'stream'; state: 'disconnected'; reason: string };

export type RuntimeEvent = ContainerEvent | StreamEvent;

export interface EventFilter {
  labels?: LabelSelector;
  containerIds?: string[];
  /** Default: every action. */
  actions?: ContainerEventAction[];
}

export interface EventOptions {
  /** Replay events since this time (epoch ms), as far as the engine still has them. */
  since?: number;
}

/**
 * An endless stream: it reconnects by itself and never throws for engine outages (it yields
 * `stream` events instead). It ends only when closed, or when a `for await` loop leaves it.
 */
export interface EventStream extends AsyncIterable<RuntimeEvent> {
  close(): void;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  /** The line without its newline. */
  text: string;
  /** Epoch ms when the engine captured the line, when known. */
  time?: number;
}

export interface LogOptions {
  /** Keep streaming new lines until the container stops or the stream is closed. */
  follow?: boolean;
  /** Only lines captured at or after this time (epoch ms). */
  since?: number;
  /** Only the last N lines of the existing log (default: all). */
  tail?: number;
}

/** Ends when the log ends (or, with follow, the container stops); throws if the engine drops it. */
export interface LogStream extends AsyncIterable<LogLine> {
  close(): void;
}

export interface ContainerStats {
  /** Epoch ms of the sample. */
  read: number;
  cpuTotalUsageNs: number;
  systemCpuUsageNs?: number;
  onlineCpus?: number;
  memoryUsageBytes: number;
  memoryLimitBytes: number;
  networkRxBytes: number;
  networkTxBytes: number;
  /** The engine's own stats document (Docker's JSON), served as-is by the task metadata endpoint. */
  raw: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Networks and volumes

export interface NetworkSpec {
  name: string;
  /** Default 'bridge'. */
  driver?: string;
  /** CIDR, e.g. `10.200.3.0/24`; absent lets the engine choose. */
  subnet?: string;
  gateway?: string;
  /** Sub-range of the subnet the engine may allocate from automatically. */
  ipRange?: string;
  internal?: boolean;
  labels?: Record<string, string>;
  /** Driver options, e.g. `com.docker.network.bridge.name`. */
  options?: Record<string, string>;
}

export interface NetworkInfo {
  id: string;
  name: string;
  driver: string;
  /** Driver options, e.g. `com.docker.network.bridge.name`. */
  options?: Record<string, string>;
  subnets: { subnet: string; gateway?: string }[];
  internal: boolean;
  labels: Record<string, string>;
  containers: { containerId: string; name: string; ipv4Address?: string; macAddress?: string }[];
}

export interface VolumeSpec {
  name: string;
  /** Default 'local'. */
  driver?: string;
  driverOptions?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface VolumeInfo {
  name: string;
  driver: string;
  mountpoint: string;
  labels: Record<string, string>;
  options: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Engine

export interface EngineVersion {
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
  kernelVersion?: string;
}

export interface EngineInfo {
  /** CPUs the engine sees: registered CPU units are this × 1024. */
  cpus: number;
  memoryBytes: number;
  serverVersion: string;
  operatingSystem: string;
  kernelVersion: string;
  cgroupVersion?: string;
  cgroupDriver?: string;
  storageDriver?: string;
  containersRunning: number;
}

// ---------------------------------------------------------------------------------------------

export interface ContainerRuntime {
  /** Resolves when the engine answers; DockerUnavailableError when it is gone or does not answer in time. */
  ping(): Promise<void>;
  version(): Promise<EngineVersion>;
  info(): Promise<EngineInfo>;

  /** Makes `ref` present locally according to the policy. CannotPullContainerError on failure. */
  pullImage(ref: string, options?: PullOptions): Promise<PullResult>;
  /** undefined when the image is not present locally. */
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  /** Idempotent: a missing image is not an error. */
  removeImage(ref: string, options?: { force?: boolean }): Promise<void>;

  /** Returns the container id. CannotCreateContainerError (kind 'conflict' when the name is taken). */
  createContainer(spec: ContainerSpec): Promise<string>;
  /** Starting a running container is a no-op. ContainerNotFoundError when it does not exist. */
  startContainer(id: string): Promise<void>;
  /**
   * SIGTERM (or the image's stop signal), then SIGKILL after `timeoutSeconds`; resolves once the
   * container has exited. Stopping a stopped container resolves with `stopped: false`; a missing
   * one throws ContainerNotFoundError.
   */
  stopContainer(id: string, timeoutSeconds: number): Promise<StopResult>;
  /** Idempotent: a missing container is not an error. */
  removeContainer(id: string, options?: RemoveOptions): Promise<void>;
  /** ContainerNotFoundError when it does not exist. */
  inspectContainer(id: string): Promise<ContainerState>;
  listContainers(options?: ListContainersOptions): Promise<ContainerSummary[]>;

  events(filter?: EventFilter, options?: EventOptions): EventStream;
  /** Rejects with ContainerNotFoundError when the container does not exist. */
  logs(id: string, options?: LogOptions): Promise<LogStream>;
  /** One sample (with the previous one for CPU deltas), for the task metadata endpoint. */
  stats(id: string): Promise<ContainerStats>;

  /** Returns the network id. */
  createNetwork(spec: NetworkSpec): Promise<string>;
  /** Idempotent: a missing network is not an error. */
  removeNetwork(idOrName: string): Promise<void>;
  /** undefined when it does not exist. */
  inspectNetwork(idOrName: string): Promise<NetworkInfo | undefined>;
  listNetworks(options?: { labels?: LabelSelector }): Promise<NetworkInfo[]>;

  /** Idempotent: creating an existing volume returns it. */
  createVolume(spec: VolumeSpec): Promise<VolumeInfo>;
  /** Idempotent: a missing volume is not an error. */
  removeVolume(name: string): Promise<void>;
  inspectVolume(name: string): Promise<VolumeInfo | undefined>;
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the implementations

export function matchesLabels(labels: Record<string, string>, selector: LabelSelector | undefined): boolean {
  if (!selector) return true;
  for (const [k, want] of Object.entries(selector)) {
    const have = labels[k];
    if (have === undefined) return false;
    if (want !== true && have !== want) return false;
  }
  return true;
}

export function matchesEventFilter(e: ContainerEvent, f: EventFilter | undefined): boolean {
  if (!f) return true;
  if (f.actions && !f.actions.includes(e.action)) return false;
  if (f.containerIds && !f.containerIds.includes(e.containerId)) return false;
  return matchesLabels(e.labels, f.labels);
}

export interface ImageRef {
  /** Registry host when the reference names one (`127.0.0.1:5000`, `public.ecr.aws`). */
  registry?: string;
  /** Repository including the registry, as Docker's fromImage wants it. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits `[registry/]repo[:tag][@digest]`; a colon before the last slash belongs to the registry. */
export function parseImageRef(ref: string): ImageRef {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : undefined;
  // Docker's rule: the first component is a registry if it has a dot or a port, or is localhost.
  const registry = first !== undefined && (/[.:]/.test(first) || first === 'localhost') ? first : undefined;
  return {
    repository: rest,
    ...(registry ? { registry } : {}),
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
  };
}

/** The reference with an explicit tag, so a pull never fetches every tag of a repository. */
export function normalizeImageRef(ref: string): string {
  const r = parseImageRef(ref);
  if (r.digest) return ref;
  return `${r.repository}:${r.tag ?? 'latest'}`;
}
