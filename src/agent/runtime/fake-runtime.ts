// An in-memory ContainerRuntime for unit tests and scale simulation. Containers "run" on timers,
// exit when stopped or when told to, report health, ports and addresses, and emit the same event
// sequence Docker does (create, start, kill, oom, die, stop, destroy, health_status). Errors
// mirror Docker's wording and the same named classes, so a runner tested here behaves the same
// on a real engine. Time comes from a FakeScheduler: real timers, or ManualScheduler to step time.
import { randomBytes } from 'node:crypto';
import { ManualClock, systemClock, type Clock } from '../../domain/clock.js';
import {
  matchesEventFilter,
  matchesLabels,
  normalizeImageRef,
  parseImageRef,
  type AssignedPort,
  type ContainerEvent,
  type ContainerEventAction,
  type ContainerHealth,
  type ContainerNetwork,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerState,
  type ContainerStats,
  type ContainerStatus,
  type ContainerSummary,
  type EngineInfo,
  type EngineVersion,
  type EventFilter,
  type EventOptions,
  type EventStream,
  type ImageCommand,
  type ImageInfo,
  type LabelSelector,
  type ListContainersOptions,
  type LogLine,
  type LogOptions,
  type LogStream,
  type NetworkInfo,
  type NetworkSpec,
  type PullOptions,
  type PullResult,
  type RegistryAuth,
  type RemoveOptions,
  type RuntimeEvent,
  type StopResult,
  type VolumeInfo,
  type VolumeSpec,
} from './container-runtime.js';
import { healthCheckDefaults, toDockerHealthcheck } from './docker-mapping.js';
import {
  CannotCreateContainerError,
  CannotCreateNetworkError,
  CannotPullContainerError,
  CannotRemoveContainerError,
  CannotRemoveImageError,
  CannotRemoveNetworkError,
  CannotRemoveVolumeError,
  CannotStartContainerError,
  ContainerNotFoundError,
  DockerUnavailableError,
  type RuntimeError,
} from './errors.js';
import { AsyncQueue } from './streams.js';

// ---------------------------------------------------------------------------------------------
// Time

/** Where the fake gets time and timers from. */
export interface FakeScheduler {
  now(): number;
  /** Runs fn after ms; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
}

export class RealScheduler implements FakeScheduler {
  constructor(private readonly clock: Clock = systemClock) {}
  now(): number {
    return this.clock.now();
  }
  after(ms: number, fn: () => void): () => void {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  }
}

/**
 * Timers that fire only when a test calls `advance(ms)`, in due order, with the clock set to each
 * timer's due time. Pending promise chains run between timers, so awaited work can schedule more.
 */
export class ManualScheduler implements FakeScheduler {
  private timers: { due: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  constructor(readonly clock: ManualClock = new ManualClock()) {}

  now(): number {
    return this.clock.now();
  }

  after(ms: number, fn: () => void): () => void {
    const timer = { due: this.clock.now() + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  async advance(ms: number): Promise<void> {
    const target = this.clock.now() + ms;
    for (;;) {
      await settle();
      const due = this.timers
        .filter((t) => t.due <= target)
        .sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.clock.set(Math.max(this.clock.now(), due.due));
      due.fn();
    }
    this.clock.set(target);
    await settle();
  }
}

/** Lets every queued promise continuation run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

// ---------------------------------------------------------------------------------------------
// What the fake's images and processes do

export interface FakeBehaviour {
  /** Exit by itself this long after start; absent: run until stopped. */
  exitAfterMs?: number;
  /** Exit code when it exits by itself. Default 0. */
  exitCode?: number;
  /** On the stop signal: exit with a code (after a delay), or ignore it until SIGKILL (137). Default exit 0 at once. */
  onStop?: 'ignore' | { exitCode: number; afterMs?: number };
  /** Where a configured health check settles. Default 'healthy'. */
  health?: 'healthy' | 'unhealthy';
  /** Lines written at start. */
  logs?: { stream?: 'stdout' | 'stderr'; text: string }[];
  /** Memory in use once started; above the container's memoryMiB it is OOM-killed. Default 4. */
  memoryUsageMiB?: number;
  /** Start fails with this engine message (e.g. an executable not found). */
  startError?: string;
}

export interface FakeImage {
  config?: Partial<ImageInfo['config']>;
  behaviour?: FakeBehaviour;
  sizeBytes?: number;
  /** Registry images only: credentials the registry demands. */
  requireAuth?: { username: string; password: string };
}

export interface FakeRuntimeOptions {
  /** Default: real timers on the system clock. */
  scheduler?: FakeScheduler;
  /** Simulated latency per operation (ms), for scale simulation. Default 0. */
  latencyMs?: Partial<Record<FakeOperation, number>>;
  cpus?: number;
  memoryBytes?: number;
  /** Dynamic host ports are drawn from here (ECS's fallback ephemeral range by default). */
  ephemeralPorts?: [number, number];
  /** Events kept for `since` replay. */
  eventHistory?: number;
}

export type FakeOperation = keyof ContainerRuntime;

interface FakeContainer {
  id: string;
  name: string;
  spec: ContainerSpec;
  image: string;
  imageId: string;
  status: ContainerStatus;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  error?: string;
  oomKilled: boolean;
  pid?: number;
  health?: ContainerHealth;
  ports: AssignedPort[];
  networks: ContainerNetwork[];
  logs: LogLine[];
  followers: Set<AsyncQueue<LogLine>>;
  cancels: (() => void)[];
  exitWaiters: (() => void)[];
  cpuNs: number;
}

interface FakeNetwork {
  id: string;
  spec: NetworkSpec;
  driver: string;
  subnet?: { base: number; prefix: number; text: string };
  gateway?: string;
  userSubnet: boolean;
  used: Map<number, string>;
}

interface Subscriber {
  queue: AsyncQueue<RuntimeEvent>;
  filter: EventFilter;
}

const MiB = 1024 * 1024;
const containerNamePattern = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export class FakeRuntime implements ContainerRuntime {
  /** Every interface call in order, for tests that assert on what a runner did. */
  readonly calls: { op: FakeOperation; args: unknown[] }[] = [];
  private readonly scheduler: FakeScheduler;
  private readonly options: FakeRuntimeOptions;
  private readonly images = new Map<
    string,
    { id: string; image: FakeImage; tags: Set<string>; createdAt: number }
  >();
  private readonly registry = new Map<string, FakeImage>();
  private readonly registryErrors = new Map<string, string>();
  private readonly containers = new Map<string, FakeContainer>();
  private readonly behaviourOverrides = new Map<string, FakeBehaviour>();
  private readonly networks = new Map<string, FakeNetwork>();
  private readonly volumes = new Map<string, VolumeInfo>();
  private readonly hostPorts = new Map<string, string>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly history: ContainerEvent[] = [];
  private readonly injected = new Map<FakeOperation, RuntimeError[]>();
  private available = true;
  private nextPid = 1000;
  private nextPort: number;

  constructor(options: FakeRuntimeOptions = {}) {
    this.options = options;
    this.scheduler = options.scheduler ?? new RealScheduler();
    this.nextPort = this.portRange[0];
    for (const [name, driver, subnet, gateway] of [
      ['bridge', 'bridge', '172.17.0.0/16', '172.17.0.1'],
      ['host', 'host', undefined, undefined],
      ['none', 'null', undefined, undefined],
    ] as const) {
      this.networks.set(name, {
        id: newId(),
        spec: { name, driver },
        driver,
        ...(subnet ? { subnet: parseCidr(subnet) } : {}),
        ...(gateway ? { gateway } : {}),
        userSubnet: false,
        used: new Map(),
      });
    }
  }

  private get portRange(): [number, number] {
    return this.options.ephemeralPorts ?? [49153, 65535];
  }

  // -------------------------------------------------------------------------------------------
  // Test controls

  /** Makes an image present locally. */
  addImage(ref: string, image: FakeImage = {}): string {
    const tag = normalizeImageRef(ref);
    const existing = this.images.get(tag);
    if (existing) {
      existing.image = image;
      return existing.id;
    }
    const id = `sha256:${randomBytes(32).toString('hex')}`;
    this.images.set(tag, { id, image, tags: new Set([tag]), createdAt: this.scheduler.now() });
    return id;
  }

  /** Makes an image pullable from its registry. */
  addRegistryImage(ref: string, image: FakeImage = {}): void {
    this.registry.set(normalizeImageRef(ref), image);
  }

  /** Pulls of `ref` (or of every image on registry host `ref`) fail with this registry text. */
  setRegistryError(refOrRegistry: string, message: string | undefined): void {
    if (message === undefined) this.registryErrors.delete(refOrRegistry);
    else this.registryErrors.set(refOrRegistry, message);
  }

  /** Overrides image behaviour for the container with this name (before or after it is created). */
  setBehaviour(containerName: string, behaviour: FakeBehaviour): void {
    this.behaviourOverrides.set(containerName, behaviour);
  }

  /** The next call of `op` fails with `error` (queued: several calls fail in order). */
  failNext(op: FakeOperation, error: RuntimeError): void {
    const list = this.injected.get(op) ?? [];
    list.push(error);
    this.injected.set(op, list);
  }

  /**
   * Engine down (false) or back (true). While down every call throws DockerUnavailableError and
   * event streams report `disconnected`; containers keep running (live restore). On return,
   * streams report `connected {resumed: true}` without replaying what happened meanwhile.
   */
  setAvailable(available: boolean): void {
    if (this.available === available) return;
    this.available = available;
    for (const s of this.subscribers) {
      s.queue.push(
        available
          ? { type: 'stream', state: 'connected', resumed: true }
          : { type: 'stream', state: 'disconnected', reason: 'Docker daemon stopped' },
      );
    }
  }

  /** The process exits by itself with this code. */
  exitContainer(idOrName: string, exitCode: number): void {
    const c = this.mustFind(idOrName);
    if (c.status === 'running') this.exit(c, exitCode);
  }

  /** The kernel OOM-kills the process (exit 137, OOMKilled). */
  oomKill(idOrName: string): void {
    const c = this.mustFind(idOrName);
    if (c.status === 'running') this.exit(c, 137, { oom: true });
  }

  /** Forces a health status now (emits health_status when it changes). */
  setHealth(idOrName: string, status: ContainerHealth['status']): void {
    const c = this.mustFind(idOrName);
    if (!c.health) throw new Error(`container ${c.name} has no health check`);
    this.setHealthStatus(c, status);
  }

  /** The process writes a line. */
  writeLog(idOrName: string, stream: LogLine['stream'], text: string): void {
    const c = this.mustFind(idOrName);
    const line: LogLine = { stream, text, time: this.scheduler.now() };
    c.logs.push(line);
    for (const f of c.followers) f.push(line);
  }

  /** Ids of the containers that exist, in creation order. */
  containerIds(): string[] {
    return [...this.containers.keys()];
  }

  // -------------------------------------------------------------------------------------------
  // Plumbing

  private async enter(op: FakeOperation, args: unknown[]): Promise<void> {
    this.calls.push({ op, args: structuredClone(args) });
    const latency = this.options.latencyMs?.[op] ?? 0;
    if (latency > 0) await new Promise<void>((r) => this.scheduler.after(latency, r));
    if (!this.available) {
      throw new DockerUnavailableError(
        'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
      );
    }
    const queued = this.injected.get(op);
    const err = queued?.shift();
    if (queued && queued.length === 0) this.injected.delete(op);
    if (err) throw err;
  }

  private find(idOrName: string): FakeContainer | undefined {
    const key = idOrName.replace(/^\//, '');
    const byId = this.containers.get(key);
    if (byId) return byId;
    for (const c of this.containers.values()) if (c.name === key) return c;
    // Docker also accepts a unique id prefix.
    const matches = [...this.containers.values()].filter((c) => key.length > 0 && c.id.startsWith(key));
    return matches.length === 1 ? matches[0] : undefined;
  }

  private mustFind(idOrName: string): FakeContainer {
    const c = this.find(idOrName);
    if (!c) throw new ContainerNotFoundError(idOrName);
    return c;
  }

  private behaviour(c: FakeContainer): FakeBehaviour {
    const image = this.images.get(c.image)?.image.behaviour ?? {};
    return { ...image, ...(this.behaviourOverrides.get(c.name) ?? {}) };
  }

  private emit(c: FakeContainer, action: ContainerEventAction, extra: Partial<ContainerEvent> = {}): void {
    const ev: ContainerEvent = {
      type: 'container',
      action,
      containerId: c.id,
      name: c.name,
      image: c.spec.image,
      labels: { ...(c.spec.labels ?? {}) },
      time: this.scheduler.now(),
      ...extra,
    };
    this.history.push(ev);
    const limit = this.options.eventHistory ?? 1000;
    if (this.history.length > limit) this.history.splice(0, this.history.length - limit);
    if (!this.available) return;
    for (const s of this.subscribers) if (matchesEventFilter(ev, s.filter)) s.queue.push(structuredClone(ev));
  }

  private setHealthStatus(c: FakeContainer, status: ContainerHealth['status']): void {
    if (!c.health || c.health.status === status) return;
    c.health = {
      status,
      failingStreak:
        status === 'unhealthy' ? (c.spec.healthCheck?.retries ?? healthCheckDefaults.retries) : 0,
      lastExitCode: status === 'unhealthy' ? 1 : 0,
      lastOutput: '',
    };
    this.emit(c, 'health_status', { health: status });
  }

  // -------------------------------------------------------------------------------------------
  // Engine

  async ping(): Promise<void> {
    await this.enter('ping', []);
  }

  async version(): Promise<EngineVersion> {
    await this.enter('version', []);
    return {
      version: '20.10.24-fake',
      apiVersion: '1.41',
      os: 'linux',
      arch: 'amd64',
      kernelVersion: 'fake',
    };
  }

  async info(): Promise<EngineInfo> {
    await this.enter('info', []);
    return {
      cpus: this.options.cpus ?? 4,
      memoryBytes: this.options.memoryBytes ?? 8 * 1024 * MiB,
      serverVersion: '20.10.24-fake',
      operatingSystem: 'Berth fake engine',
      kernelVersion: 'fake',
      cgroupVersion: '1',
      cgroupDriver: 'cgroupfs',
      storageDriver: 'fake',
      containersRunning: [...this.containers.values()].filter((c) => c.status === 'running').length,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Images

  async pullImage(ref: string, options: PullOptions = {}): Promise<PullResult> {
    await this.enter('pullImage', [ref, { ...options, auth: options.auth ? '<redacted>' : undefined }]);
    const image = normalizeImageRef(ref);
    const policy = options.policy ?? 'always';
    const local = this.images.get(image);
    switch (policy) {
      case 'never':
        if (local) return { imageId: local.id, pulled: false, imageCommand: imageCommandOf(local.image) };
        throw new CannotPullContainerError(
          `image ${image} is not present on this host and the pull policy is 'never'`,
          { kind: 'not-found' },
        );
      case 'if-not-present':
        if (local) return { imageId: local.id, pulled: false, imageCommand: imageCommandOf(local.image) };
        return this.pullFromRegistry(image, options.auth);
      case 'always':
        return this.pullFromRegistry(image, options.auth);
      case 'remote-or-cached':
        try {
          return this.pullFromRegistry(image, options.auth);
        } catch (e) {
          if (local && e instanceof CannotPullContainerError) {
            return {
              imageId: local.id,
              pulled: false,
              fallbackReason: e.message,
              imageCommand: imageCommandOf(local.image),
            };
          }
          throw e;
        }
      default: {
        const never: never = policy;
        throw new CannotPullContainerError(`unknown pull policy ${String(never)}`, { kind: 'invalid' });
      }
    }
  }

  private pullFromRegistry(image: string, auth: RegistryAuth | undefined): PullResult {
    const r = parseImageRef(image);
    const registry = r.registry ?? 'registry-1.docker.io';
    const failure = this.registryErrors.get(image) ?? this.registryErrors.get(registry);
    if (failure !== undefined) throw new CannotPullContainerError(failure);
    const remote = this.registry.get(image);
    if (!remote) {
      throw new CannotPullContainerError(
        `manifest for ${image} not found: manifest unknown: manifest unknown`,
        {
          kind: 'not-found',
        },
      );
    }
    if (
      remote.requireAuth &&
      (auth?.username !== remote.requireAuth.username || auth.password !== remote.requireAuth.password)
    ) {
      throw new CannotPullContainerError(
        `Head "https://${registry}/v2/${r.repository}/manifests/${r.tag ?? 'latest'}": no basic auth credentials`,
        { kind: 'unauthorized' },
      );
    }
    const imageId = this.addImage(image, remote);
    return { imageId, pulled: true, imageCommand: imageCommandOf(remote) };
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    await this.enter('inspectImage', [ref]);
    const image = normalizeImageRef(ref);
    const found = this.images.get(image) ?? [...this.images.values()].find((i) => i.id === ref);
    if (!found) return undefined;
    const cfg = found.image.config ?? {};
    return structuredClone({
      id: found.id,
      repoTags: [...found.tags],
      repoDigests: [],
      sizeBytes: found.image.sizeBytes ?? 2 * MiB,
      createdAt: found.createdAt,
      os: 'linux',
      architecture: 'amd64',
      config: { env: [], exposedPorts: [], labels: {}, ...cfg },
    });
  }

  async removeImage(ref: string, options: { force?: boolean } = {}): Promise<void> {
    await this.enter('removeImage', [ref, options]);
    const image = normalizeImageRef(ref);
    const found = this.images.get(image);
    if (!found) return;
    const user = [...this.containers.values()].find((c) => c.imageId === found.id);
    if (user && !options.force) {
      throw new CannotRemoveImageError(
        `conflict: unable to remove repository reference "${image}" (must force) - container ${user.id.slice(0, 12)} is using its referenced image ${found.id.slice(7, 19)}`,
        { kind: 'conflict' },
      );
    }
    this.images.delete(image);
  }

  // -------------------------------------------------------------------------------------------
  // Containers

  async createContainer(spec: ContainerSpec): Promise<string> {
    await this.enter('createContainer', [spec]);
    const name = spec.name.replace(/^\//, '');
    if (!containerNamePattern.test(spec.name)) {
      throw new CannotCreateContainerError(
        `Invalid container name (${spec.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
        { kind: 'invalid' },
      );
    }
    const taken = [...this.containers.values()].find((c) => c.name === name);
    if (taken) {
      throw new CannotCreateContainerError(
        `Conflict. The container name "/${name}" is already in use by container "${taken.id}". You have to remove (or rename) that container to be able to reuse that name.`,
        { kind: 'conflict' },
      );
    }
    const image = normalizeImageRef(spec.image);
    const img = this.images.get(image);
    if (!img) throw new CannotCreateContainerError(`No such image: ${image}`, { kind: 'not-found' });
    if (spec.memoryMiB !== undefined && spec.memoryMiB < 6) {
      throw new CannotCreateContainerError('Minimum memory limit allowed is 6MB', { kind: 'invalid' });
    }
    if (
      spec.memoryMiB !== undefined &&
      spec.memoryReservationMiB !== undefined &&
      spec.memoryMiB < spec.memoryReservationMiB
    ) {
      throw new CannotCreateContainerError(
        'Minimum memory limit can not be less than memory reservation limit, see usage',
        { kind: 'invalid' },
      );
    }
    if (spec.nanoCpus !== undefined && spec.cpuQuota !== undefined) {
      throw new CannotCreateContainerError(
        'Conflicting options: Nano CPUs and CPU Period cannot both be set',
        {
          kind: 'invalid',
        },
      );
    }
    if (spec.healthCheck) toDockerHealthcheck(spec.healthCheck); // same validation and message as Docker's path
    const mode = spec.networkMode ?? 'bridge';
    if (typeof mode === 'object' && 'network' in mode) {
      const net = this.networks.get(mode.network) ?? this.networkById(mode.network);
      if (!net)
        throw new CannotCreateContainerError(`network ${mode.network} not found`, { kind: 'not-found' });
      if (mode.ipv4Address && !net.userSubnet) {
        throw new CannotCreateContainerError(
          'user specified IP address is supported only when connecting to networks with user configured subnets',
          { kind: 'invalid' },
        );
      }
    }
    if (typeof mode === 'object' && 'container' in mode && !this.find(mode.container)) {
      throw new CannotCreateContainerError(`No such container: ${mode.container}`, { kind: 'not-found' });
    }
    for (const m of spec.mounts ?? []) {
      if (m.type === 'volume' && !this.volumes.has(m.source)) {
        this.volumes.set(m.source, {
          name: m.source,
          driver: 'local',
          mountpoint: `/var/lib/docker/volumes/${m.source}/_data`,
          labels: {},
          options: {},
        });
      }
    }
    const c: FakeContainer = {
      id: newId(),
      name,
      spec: structuredClone(spec),
      image,
      imageId: img.id,
      status: 'created',
      createdAt: this.scheduler.now(),
      oomKilled: false,
      ports: [],
      networks: [],
      logs: [],
      followers: new Set(),
      cancels: [],
      exitWaiters: [],
      cpuNs: 0,
    };
    this.containers.set(c.id, c);
    this.emit(c, 'create');
    return c.id;
  }

  async startContainer(id: string): Promise<void> {
    await this.enter('startContainer', [id]);
    const c = this.mustFind(id);
    if (c.status === 'running') return;
    const b = this.behaviour(c);
    if (b.startError !== undefined) {
      c.error = b.startError;
      throw new CannotStartContainerError(b.startError);
    }
    this.attachNetwork(c);
    try {
      this.bindPorts(c);
    } catch (e) {
      this.releaseNetwork(c);
      throw e;
    }
    c.status = 'running';
    c.pid = this.nextPid++;
    c.startedAt = this.scheduler.now();
    delete c.finishedAt;
    delete c.exitCode;
    delete c.error;
    c.oomKilled = false;
    const hc = c.spec.healthCheck;
    if (hc && hc.command[0] !== 'NONE') c.health = { status: 'starting', failingStreak: 0 };
    else delete c.health;
    this.emit(c, 'start');
    for (const l of b.logs ?? []) this.writeLog(c.id, l.stream ?? 'stdout', l.text);

    const usage = b.memoryUsageMiB ?? 4;
    if (c.spec.memoryMiB !== undefined && usage > c.spec.memoryMiB) {
      this.exit(c, 137, { oom: true });
      return;
    }
    if (b.exitAfterMs !== undefined) {
      const code = b.exitCode ?? 0;
      c.cancels.push(this.scheduler.after(b.exitAfterMs, () => c.status === 'running' && this.exit(c, code)));
    }
    if (c.health && hc) {
      const interval = hc.intervalMs ?? healthCheckDefaults.intervalMs;
      const startPeriod = hc.startPeriodMs ?? healthCheckDefaults.startPeriodMs;
      const retries = hc.retries ?? healthCheckDefaults.retries;
      // Docker probes every interval; a pass counts at once, failures only after the start period.
      const [at, status] =
        (b.health ?? 'healthy') === 'healthy'
          ? [interval, 'healthy' as const]
          : [Math.max(startPeriod, 0) + retries * interval, 'unhealthy' as const];
      c.cancels.push(
        this.scheduler.after(at, () => c.status === 'running' && this.setHealthStatus(c, status)),
      );
    }
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<StopResult> {
    await this.enter('stopContainer', [id, timeoutSeconds]);
    const c = this.mustFind(id);
    if (c.status !== 'running') return { stopped: false };
    const exited = new Promise<void>((r) => c.exitWaiters.push(r));
    const onStop = this.behaviour(c).onStop ?? { exitCode: 0 };
    const graceMs = Math.max(0, timeoutSeconds) * 1000;
    this.emit(c, 'kill', { signal: '15' });
    const kill = (): void => {
      if (c.status !== 'running') return;
      this.emit(c, 'kill', { signal: '9' });
      this.exit(c, 137);
    };
    if (onStop === 'ignore' || (onStop.afterMs ?? 0) >= graceMs) {
      c.cancels.push(this.scheduler.after(graceMs, kill));
    } else if ((onStop.afterMs ?? 0) === 0) {
      this.exit(c, onStop.exitCode);
    } else {
      c.cancels.push(
        this.scheduler.after(
          onStop.afterMs ?? 0,
          () => c.status === 'running' && this.exit(c, onStop.exitCode),
        ),
      );
    }
    await exited;
    this.emit(c, 'stop');
    return { stopped: true };
  }

  async removeContainer(id: string, options: RemoveOptions = {}): Promise<void> {
    await this.enter('removeContainer', [id, options]);
    const c = this.find(id);
    if (!c) return;
    if (c.status === 'running') {
      if (!options.force) {
        throw new CannotRemoveContainerError(
          `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`,
          { kind: 'conflict' },
        );
      }
      this.emit(c, 'kill', { signal: '9' });
      this.exit(c, 137);
    }
    this.containers.delete(c.id);
    this.emit(c, 'destroy');
  }

  async inspectContainer(id: string): Promise<ContainerState> {
    await this.enter('inspectContainer', [id]);
    const c = this.mustFind(id);
    return structuredClone({
      id: c.id,
      name: c.name,
      image: c.spec.image,
      imageId: c.imageId,
      status: c.status,
      engineStatus: c.status,
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.error !== undefined ? { error: c.error } : {}),
      oomKilled: c.oomKilled,
      createdAt: c.createdAt,
      ...(c.startedAt !== undefined ? { startedAt: c.startedAt } : {}),
      ...(c.finishedAt !== undefined ? { finishedAt: c.finishedAt } : {}),
      ...(c.pid !== undefined ? { pid: c.pid } : {}),
      ...(c.health ? { health: c.health } : {}),
      ports: c.ports,
      networks: c.networks,
      labels: c.spec.labels ?? {},
    });
  }

  async listContainers(options: ListContainersOptions = {}): Promise<ContainerSummary[]> {
    await this.enter('listContainers', [options]);
    return [...this.containers.values()]
      .filter((c) => (options.all ?? true) || c.status === 'running')
      .filter((c) => matchesLabels(c.spec.labels ?? {}, options.labels))
      .map((c) =>
        structuredClone({
          id: c.id,
          name: c.name,
          image: c.spec.image,
          imageId: c.imageId,
          status: c.status,
          engineStatus: c.status,
          labels: c.spec.labels ?? {},
          createdAt: c.createdAt,
        }),
      );
  }

  private exit(c: FakeContainer, exitCode: number, o: { oom?: boolean } = {}): void {
    for (const cancel of c.cancels.splice(0)) cancel();
    c.status = 'exited';
    c.exitCode = exitCode;
    c.finishedAt = this.scheduler.now();
    c.oomKilled = !!o.oom;
    delete c.pid;
    this.releasePorts(c);
    this.releaseNetwork(c);
    if (o.oom) this.emit(c, 'oom');
    this.emit(c, 'die', { exitCode });
    for (const f of c.followers) f.end();
    c.followers.clear();
    for (const w of c.exitWaiters.splice(0)) w();
  }

  // -------------------------------------------------------------------------------------------
  // Ports and addresses

  private bindPorts(c: FakeContainer): void {
    const mode = c.spec.networkMode ?? 'bridge';
    if (!(mode === 'bridge' || (typeof mode === 'object' && 'network' in mode))) return;
    const taken: string[] = [];
    try {
      for (const p of c.spec.portBindings ?? []) {
        const protocol = p.protocol ?? 'tcp';
        let hostPort = p.hostPort ?? 0;
        if (hostPort > 0) {
          if (this.hostPorts.has(`${protocol}/${hostPort}`)) {
            throw new CannotStartContainerError(
              `driver failed programming external connectivity on endpoint ${c.name} (${c.id}): Bind for ${p.hostIp ?? '0.0.0.0'}:${hostPort} failed: port is already allocated`,
              { kind: 'conflict' },
            );
          }
        } else {
          hostPort = this.dynamicPort(protocol);
        }
        this.hostPorts.set(`${protocol}/${hostPort}`, c.id);
        taken.push(`${protocol}/${hostPort}`);
        c.ports.push({ containerPort: p.containerPort, protocol, hostPort, hostIp: p.hostIp ?? '0.0.0.0' });
      }
    } catch (e) {
      for (const k of taken) this.hostPorts.delete(k);
      c.ports = [];
      throw e;
    }
  }

  private dynamicPort(protocol: string): number {
    const [lo, hi] = this.portRange;
    for (let i = 0; i <= hi - lo; i++) {
      const p = this.nextPort;
      this.nextPort = p >= hi ? lo : p + 1;
      if (!this.hostPorts.has(`${protocol}/${p}`)) return p;
    }
    throw new CannotStartContainerError('no free host port in the ephemeral range', { kind: 'conflict' });
  }

  private releasePorts(c: FakeContainer): void {
    for (const p of c.ports) this.hostPorts.delete(`${p.protocol}/${p.hostPort}`);
    c.ports = [];
  }

  private networkById(id: string): FakeNetwork | undefined {
    return [...this.networks.values()].find((n) => n.id === id || (id.length >= 12 && n.id.startsWith(id)));
  }

  private attachNetwork(c: FakeContainer): void {
    const mode = c.spec.networkMode ?? 'bridge';
    if (mode === 'host' || mode === 'none') {
      c.networks = [{ name: mode, networkId: this.networks.get(mode)!.id }];
      return;
    }
    // Docker reports a NetworkDisabled container on no network at all.
    if (mode === 'isolated') {
      c.networks = [];
      return;
    }
    if (typeof mode === 'object' && 'container' in mode) {
      const peer = this.find(mode.container);
      if (!peer || peer.status !== 'running') {
        throw new CannotStartContainerError(
          `cannot join network of a non running container: ${mode.container}`,
        );
      }
      c.networks = [];
      return;
    }
    const netName = mode === 'bridge' ? 'bridge' : mode.network;
    const net = this.networks.get(netName) ?? this.networkById(netName);
    if (!net?.subnet)
      throw new CannotStartContainerError(`network ${netName} not found`, { kind: 'not-found' });
    const wanted = typeof mode === 'object' ? mode.ipv4Address : undefined;
    let ip: number;
    if (wanted) {
      ip = ipToInt(wanted);
      if (!inSubnet(ip, net.subnet)) {
        throw new CannotStartContainerError(
          `no available IPv4 addresses on this network's address pools: ${net.spec.name}`,
        );
      }
      if (net.used.has(ip) || intToIp(ip) === net.gateway) {
        throw new CannotStartContainerError(`Address already in use`, { kind: 'conflict' });
      }
    } else {
      ip = this.freeAddress(net);
    }
    net.used.set(ip, c.id);
    c.networks = [
      {
        name: net.spec.name,
        networkId: net.id,
        ipv4Address: intToIp(ip),
        ipv4PrefixLength: net.subnet.prefix,
        ...(net.gateway ? { gateway: net.gateway } : {}),
        macAddress: macFor(ip),
      },
    ];
  }

  private freeAddress(net: FakeNetwork): number {
    const s = net.subnet!;
    const size = 2 ** (32 - s.prefix);
    for (let i = 2; i < size - 1; i++) {
      const ip = s.base + i;
      if (!net.used.has(ip) && intToIp(ip) !== net.gateway) return ip;
    }
    throw new CannotStartContainerError(
      `no available IPv4 addresses on this network's address pools: ${net.spec.name}`,
    );
  }

  /** Like Docker, a stopped container keeps its network names but loses its addresses. */
  private releaseNetwork(c: FakeContainer): void {
    for (const n of this.networks.values()) {
      for (const [ip, owner] of n.used) if (owner === c.id) n.used.delete(ip);
    }
    c.networks = c.networks.map((n) => ({
      name: n.name,
      ...(n.networkId ? { networkId: n.networkId } : {}),
    }));
  }

  // -------------------------------------------------------------------------------------------
  // Events, logs, stats

  events(filter: EventFilter = {}, options: EventOptions = {}): EventStream {
    this.calls.push({ op: 'events', args: structuredClone([filter, options]) });
    const sub: Subscriber = {
      filter,
      queue: new AsyncQueue<RuntimeEvent>({ onClose: () => this.subscribers.delete(sub) }),
    };
    this.subscribers.add(sub);
    if (this.available) {
      sub.queue.push({ type: 'stream', state: 'connected', resumed: false });
      if (options.since !== undefined) {
        const since = options.since;
        for (const ev of this.history) {
          if (ev.time >= since && matchesEventFilter(ev, filter)) sub.queue.push(structuredClone(ev));
        }
      }
    } else {
      sub.queue.push({
        type: 'stream',
        state: 'disconnected',
        reason: 'Cannot connect to the Docker daemon',
      });
    }
    return {
      close: () => sub.queue.close(),
      [Symbol.asyncIterator]: () => sub.queue[Symbol.asyncIterator](),
    };
  }

  async logs(id: string, options: LogOptions = {}): Promise<LogStream> {
    await this.enter('logs', [id, options]);
    const c = this.mustFind(id);
    let backlog = c.logs.filter((l) => options.since === undefined || (l.time ?? 0) >= options.since);
    if (options.tail !== undefined) backlog = options.tail === 0 ? [] : backlog.slice(-options.tail);
    const queue: AsyncQueue<LogLine> = new AsyncQueue<LogLine>({ onClose: () => c.followers.delete(queue) });
    for (const l of backlog) queue.push({ ...l });
    if (options.follow && c.status === 'running') c.followers.add(queue);
    else queue.end();
    return {
      close: () => queue.close(),
      [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
    };
  }

  async stats(id: string): Promise<ContainerStats> {
    await this.enter('stats', [id]);
    const c = this.mustFind(id);
    const now = this.scheduler.now();
    const running = c.status === 'running';
    const cpus = this.options.cpus ?? 4;
    // A steady 10% of one CPU while running.
    const prevCpu = c.cpuNs;
    if (running) c.cpuNs += 100_000_000;
    const usage = running ? (this.behaviour(c).memoryUsageMiB ?? 4) * MiB : 0;
    const limit =
      c.spec.memoryMiB !== undefined ? c.spec.memoryMiB * MiB : (this.options.memoryBytes ?? 8 * 1024 * MiB);
    const systemNs = now * 1_000_000 * cpus;
    const raw = {
      read: new Date(now).toISOString(),
      preread: new Date(now - 1000).toISOString(),
      name: `/${c.name}`,
      id: c.id,
      pids_stats: { current: running ? 1 : 0 },
      cpu_stats: {
        cpu_usage: { total_usage: c.cpuNs, usage_in_kernelmode: 0, usage_in_usermode: c.cpuNs },
        system_cpu_usage: systemNs,
        online_cpus: cpus,
        throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
      },
      precpu_stats: {
        cpu_usage: { total_usage: prevCpu, usage_in_kernelmode: 0, usage_in_usermode: prevCpu },
        system_cpu_usage: systemNs - 1_000_000_000 * cpus,
        online_cpus: cpus,
        throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
      },
      memory_stats: running ? { usage: usage, max_usage: usage, limit, stats: {} } : {},
      networks: running ? { eth0: { rx_bytes: 0, rx_packets: 0, tx_bytes: 0, tx_packets: 0 } } : undefined,
      blkio_stats: {},
    };
    return {
      read: now,
      cpuTotalUsageNs: c.cpuNs,
      systemCpuUsageNs: systemNs,
      onlineCpus: cpus,
      memoryUsageBytes: usage,
      memoryLimitBytes: running ? limit : 0,
      networkRxBytes: 0,
      networkTxBytes: 0,
      raw: JSON.parse(JSON.stringify(raw)) as Record<string, unknown>,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Networks

  async createNetwork(spec: NetworkSpec): Promise<string> {
    await this.enter('createNetwork', [spec]);
    if (this.networks.has(spec.name)) {
      throw new CannotCreateNetworkError(`network with name ${spec.name} already exists`, {
        kind: 'conflict',
      });
    }
    let subnet: FakeNetwork['subnet'];
    if (spec.subnet) {
      subnet = parseCidr(spec.subnet);
      for (const n of this.networks.values()) {
        if (n.subnet && overlaps(n.subnet, subnet)) {
          throw new CannotCreateNetworkError('Pool overlaps with other one on this address space', {
            kind: 'conflict',
          });
        }
      }
    } else {
      subnet = this.autoSubnet();
    }
    const gateway = spec.gateway ?? intToIp(subnet.base + 1);
    if (!inSubnet(ipToInt(gateway), subnet)) {
      throw new CannotCreateNetworkError(`Invalid gateway ${gateway} for subnet ${subnet.text}`, {
        kind: 'invalid',
      });
    }
    const net: FakeNetwork = {
      id: newId(),
      spec: structuredClone(spec),
      driver: spec.driver ?? 'bridge',
      subnet,
      gateway,
      userSubnet: spec.subnet !== undefined,
      used: new Map(),
    };
    this.networks.set(spec.name, net);
    return net.id;
  }

  /** Docker's default pools: 172.18.0.0/16 upwards. */
  private autoSubnet(): NonNullable<FakeNetwork['subnet']> {
    for (let second = 18; second < 32; second++) {
      const candidate = parseCidr(`172.${second}.0.0/16`);
      if (![...this.networks.values()].some((n) => n.subnet && overlaps(n.subnet, candidate)))
        return candidate;
    }
    throw new CannotCreateNetworkError('could not find an available, non-overlapping IPv4 address pool', {
      kind: 'conflict',
    });
  }

  async removeNetwork(idOrName: string): Promise<void> {
    await this.enter('removeNetwork', [idOrName]);
    const net = this.networks.get(idOrName) ?? this.networkById(idOrName);
    if (!net) return;
    if (['bridge', 'host', 'none'].includes(net.spec.name)) {
      throw new CannotRemoveNetworkError(`${net.spec.name} is a pre-defined network and cannot be removed`, {
        kind: 'conflict',
        retriable: false,
      });
    }
    if (net.used.size > 0) {
      throw new CannotRemoveNetworkError(
        `error while removing network: network ${net.spec.name} id ${net.id} has active endpoints`,
        {
          kind: 'conflict',
        },
      );
    }
    this.networks.delete(net.spec.name);
  }

  async inspectNetwork(idOrName: string): Promise<NetworkInfo | undefined> {
    await this.enter('inspectNetwork', [idOrName]);
    const net = this.networks.get(idOrName) ?? this.networkById(idOrName);
    return net ? this.networkInfo(net) : undefined;
  }

  async listNetworks(options: { labels?: LabelSelector } = {}): Promise<NetworkInfo[]> {
    await this.enter('listNetworks', [options]);
    return [...this.networks.values()]
      .filter((n) => matchesLabels(n.spec.labels ?? {}, options.labels))
      .map((n) => this.networkInfo(n));
  }

  private networkInfo(n: FakeNetwork): NetworkInfo {
    return structuredClone({
      id: n.id,
      name: n.spec.name,
      driver: n.driver,
      internal: n.spec.internal ?? false,
      labels: n.spec.labels ?? {},
      subnets: n.subnet ? [{ subnet: n.subnet.text, ...(n.gateway ? { gateway: n.gateway } : {}) }] : [],
      containers: [...n.used].map(([ip, id]) => ({
        containerId: id,
        name: this.containers.get(id)?.name ?? '',
        ipv4Address: intToIp(ip),
        macAddress: macFor(ip),
      })),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Volumes

  async createVolume(spec: VolumeSpec): Promise<VolumeInfo> {
    await this.enter('createVolume', [spec]);
    const existing = this.volumes.get(spec.name);
    if (existing) return structuredClone(existing);
    const v: VolumeInfo = {
      name: spec.name,
      driver: spec.driver ?? 'local',
      mountpoint: `/var/lib/docker/volumes/${spec.name}/_data`,
      labels: { ...(spec.labels ?? {}) },
      options: { ...(spec.driverOptions ?? {}) },
    };
    this.volumes.set(spec.name, v);
    return structuredClone(v);
  }

  async removeVolume(name: string): Promise<void> {
    await this.enter('removeVolume', [name]);
    if (!this.volumes.has(name)) return;
    const user = [...this.containers.values()].find((c) =>
      (c.spec.mounts ?? []).some((m) => m.type === 'volume' && m.source === name),
    );
    if (user) {
      throw new CannotRemoveVolumeError(`remove ${name}: volume is in use - [${user.id}]`, {
        kind: 'conflict',
      });
    }
    this.volumes.delete(name);
  }

  async inspectVolume(name: string): Promise<VolumeInfo | undefined> {
    await this.enter('inspectVolume', [name]);
    const v = this.volumes.get(name);
    return v ? structuredClone(v) : undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// IPv4 arithmetic for the fake IPAM

function newId(): string {
  return randomBytes(32).toString('hex');
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new CannotStartContainerError(`invalid IPv4 address ${ip}`, { kind: 'invalid' });
  }
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function parseCidr(cidr: string): { base: number; prefix: number; text: string } {
  const [addr, bits] = cidr.split('/');
  const prefix = Number(bits);
  if (!addr || !Number.isInteger(prefix) || prefix < 8 || prefix > 30) {
    throw new CannotCreateNetworkError(`invalid subnet ${cidr}`, { kind: 'invalid' });
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = (ipToInt(addr) & mask) >>> 0;
  return { base, prefix, text: `${intToIp(base)}/${prefix}` };
}

function inSubnet(ip: number, s: { base: number; prefix: number }): boolean {
  return ip >= s.base && ip < s.base + 2 ** (32 - s.prefix);
}

function overlaps(a: { base: number; prefix: number }, b: { base: number; prefix: number }): boolean {
  const aEnd = a.base + 2 ** (32 - a.prefix);
  const bEnd = b.base + 2 ** (32 - b.prefix);
  return a.base < bEnd && b.base < aEnd;
}

/** Docker derives bridge MACs from the IP: 02:42 followed by the four address bytes. */
function macFor(ip: number): string {
  return [
    '02',
    '42',
    ...intToIp(ip)
      .split('.')
      .map((b) => Number(b).toString(16).padStart(2, '0')),
  ].join(':');
}

function imageCommandOf(image: FakeImage): ImageCommand {
  const { entryPoint, command } = image.config ?? {};
  return { ...(entryPoint ? { entryPoint } : {}), ...(command ? { command } : {}) };
}
