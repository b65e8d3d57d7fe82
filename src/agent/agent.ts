// `berth agent`: one per host. Turns the tasks the control plane assigns to this host into
// containers and reports truthfully what happens to them.
//
//   start():  state file ─► Docker engine (waits for it) ─► pause image, task network
//             ─► metadata endpoint ─► task engine (re-adopts saved tasks) ─► registration
//             ─► session (hello / welcome / tasks / report / ack / logs)
//   stop():   session ─► task engine ─► metadata endpoint ─► state file
//             Containers keep running: an agent restart never stops tasks.
//
// `berth up` constructs it in the same process as the control plane; `berth agent` on its own.
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';
import {
  PROTOCOL_VERSION,
  type HealthMessage,
  type HelloMessage,
  type ServerToAgent,
  type WelcomeMessage,
} from '../domain/agent-protocol.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import type { AgentConfig } from './config.js';
import { EcsApiClient } from './ecs-api.js';
import { TaskEngine } from './engine/task-engine.js';
import { createLogsHandler, type LogsHandler } from './logs/handler.js';
import { startMetadataServer, type MetadataServer } from './metadata/server.js';
import { parseCidr } from './network/ipam.js';
import { NetlinkPlumber } from './network/netplumb.js';
import { installNetwait, netwaitProgram } from './network/netwait.js';
import { DockerImageImporter, ensurePauseImage } from './network/pause-image.js';
import {
  plumbingForbiddenReason,
  processPlumbingUnavailableReason,
  type NamespacePlumber,
} from './network/plumbing.js';
import { ProcessPlumber } from './network/plumber-process.js';
import { ensureTaskNetwork, type TaskNetworkSettings } from './network/task-network.js';
import { registerInstance, RegistrationAbortedError } from './register.js';
import { computeManagedCapacity, type HostFacts } from './registration.js';
import type { ContainerRuntime, ContainerStats, LogOptions, LogStream } from './runtime/container-runtime.js';
import { DockerRuntime } from './runtime/docker-runtime.js';
import { SessionClient } from './session/session-client.js';
import { dropRegistration, findRegistration, type Registration } from './state/agent-state.js';
import { StateFile } from './state/state-file.js';
import type { AgentTaskView, ContainerSnapshot, TaskSnapshot } from './task-view.js';
import { AGENT_VERSION } from './version.js';

/** Retries of the task runners (a pull, a start...) after retriable Docker errors. */
const RUNNER_RETRY: BackoffPolicy = { minMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2 };
/** Waiting for the Docker engine at start-up. */
const ENGINE_WAIT: BackoffPolicy = { minMs: 500, maxMs: 10_000, factor: 2, jitter: 0.2 };

export interface BerthAgentDeps {
  /** Default: Docker at config.dockerSocket. */
  runtime?: ContainerRuntime;
  /**
   * Plumbs awsvpc namespaces. Default: `ip` + `nsenter` when the agent drives a real Docker
   * engine and can (see config.awsvpcPlumbing); an injected runtime gets Docker's attachment.
   */
  plumber?: NamespacePlumber;
  /**
   * With an injected plumber: the netwait program (on this host) that lets one-container tasks
   * hold their own namespace. Absent: such tasks get a pause container, as without netwait.
   */
  netwaitPath?: string;
  log?: Logger;
  clock?: Clock;
}

type LifeState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export class BerthAgent implements AgentTaskView {
  readonly log: Logger;
  private readonly clock: Clock;
  private readonly runtime: ContainerRuntime;
  private readonly ownsRuntime: boolean;
  private readonly plumber: NamespacePlumber | undefined;
  private readonly netwaitPath: string | undefined;
  /** The plumber this agent started (closed with it). */
  private ownPlumber: (NamespacePlumber & { close(): void }) | undefined;
  private life: LifeState = 'new';
  private readonly abort = new AbortController();
  private state: StateFile | undefined;
  private engine: TaskEngine | undefined;
  private metadata: MetadataServer | undefined;
  private session: SessionClient | undefined;
  /** The container runtime's last known health, re-sent on every new session. */
  private runtimeHealth: HealthMessage | undefined;
  private logsHandler: LogsHandler | undefined;
  private facts: HostFacts | undefined;
  private readonly openLogStreams = new Set<string>();
  private registration: Registration | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    readonly config: AgentConfig,
    deps: BerthAgentDeps = {},
  ) {
    this.log = deps.log ?? pino({ level: config.logLevel, base: { svc: 'berth-agent' } });
    this.clock = deps.clock ?? systemClock;
    this.ownsRuntime = deps.runtime === undefined;
    this.plumber = deps.plumber;
    this.netwaitPath = deps.netwaitPath;
    this.runtime = deps.runtime ?? new DockerRuntime({ socketPath: config.dockerSocket, log: this.log });
  }

  /** The host id (available once started). */
  get hostId(): string {
    if (!this.state) throw new Error('the agent has not started');
    return this.state.data.hostId;
  }

  /** The container instance this host is registered as (once registered). */
  get containerInstanceArn(): string | undefined {
    return this.registration?.containerInstanceArn;
  }

  /** A session with the control plane is open. */
  get connected(): boolean {
    return this.session?.isReady ?? false;
  }

  /**
   * Resolves once the host is registered and its session is being opened. A failure (or a stop
   * meanwhile) undoes what was started and rejects.
   */
  async start(): Promise<void> {
    if (this.life !== 'new') throw new Error(`cannot start an agent that is ${this.life}`);
    this.life = 'starting';
    this.starting = (async () => {
      try {
        await this.startSteps();
        this.life = 'running';
      } catch (e) {
        await this.teardown();
        this.life = 'stopped';
        throw e;
      }
    })();
    await this.starting;
  }

  /** Stops talking to the control plane and Docker; containers keep running. */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.life === 'starting') {
      // start() tears down what it made once it sees the abort.
      await this.starting?.catch(() => undefined);
      return;
    }
    if (this.life !== 'running') {
      if (this.life === 'new') this.life = 'stopped';
      return;
    }
    this.life = 'stopping';
    await this.teardown();
    this.life = 'stopped';
    this.log.info('berth agent stopped');
  }

  private async startSteps(): Promise<void> {
    const c = this.config;
    const state = StateFile.open(c.dataDir, {
      flushDelayMs: c.stateFlushDelayMs,
      newHostId: randomUUID,
      log: this.log,
    });
    this.state = state;
    const hostId = state.data.hostId;
    this.log.info(
      { hostId, dataDir: c.dataDir, endpoint: c.endpoint, cluster: c.cluster },
      'berth agent starting',
    );

    this.facts = await this.waitForEngine();
    const cidr = parseCidr(c.taskSubnetCidr);
    const taskNetwork: TaskNetworkSettings = { networkName: c.taskNetworkName, cidr, hostId };
    const plumbing = await this.choosePlumbing();
    if (plumbing) taskNetwork.plumbing = plumbing;
    await this.prepareAwsvpc(taskNetwork);
    this.checkNotStopping();

    this.metadata = await startMetadataServer(this, { listen: c.metadataListen, log: this.log });
    this.checkNotStopping();
    this.logsHandler = createLogsHandler(this, this.log);
    const engine = new TaskEngine({
      runtime: this.runtime,
      clock: this.clock,
      log: this.log,
      state,
      settings: {
        hostId,
        pullPolicy: c.imagePullPolicy,
        cleanupWaitMs: c.taskCleanupWaitMs,
        containerStartTimeoutMs: c.containerStartTimeoutMs,
        retryPolicy: RUNNER_RETRY,
        taskNetwork,
        filesDir: join(c.dataDir, 'task-net'),
      },
      region: c.region,
      availabilityZone: c.availabilityZone,
      metadataBaseUrl: () => this.metadata?.baseUrl ?? '',
      send: (msg) => this.session?.send(msg) ?? false,
      onRuntimeHealth: (status, reason) => this.onRuntimeHealth(status, reason),
    });
    this.engine = engine;
    await engine.start();

    this.registration = await this.register();
    this.checkNotStopping();
    this.session = new SessionClient({
      endpoint: c.endpoint,
      hello: () => this.hello(),
      onMessage: (m) => this.onMessage(m),
      onReady: (w) => this.onReady(w),
      onClosed: () => this.onSessionClosed(),
      backoff: { minMs: c.reconnectMinMs, maxMs: c.reconnectMaxMs, factor: 2, jitter: 0.2 },
      timeoutMs: c.sessionTimeoutMs,
      log: this.log,
    });
    this.session.start();
    this.log.info(
      { containerInstanceArn: this.registration.containerInstanceArn, metadata: this.metadata.baseUrl },
      'berth agent running',
    );
  }

  private checkNotStopping(): void {
    if (this.abort.signal.aborted) throw new RegistrationAbortedError('the agent is stopping');
  }

  /** Closes what was started, in reverse order (each part tolerates never having started). */
  private async teardown(): Promise<void> {
    await this.session?.stop();
    this.logsHandler?.closeAll();
    await this.engine?.stop();
    this.ownPlumber?.close();
    await this.metadata?.close();
    this.state?.close();
  }

  // --- start-up --------------------------------------------------------------------------------

  private async waitForEngine(): Promise<HostFacts> {
    for (let attempt = 0; ; attempt++) {
      if (this.abort.signal.aborted) throw new RegistrationAbortedError('the agent is stopping');
      try {
        await this.runtime.ping();
        const [engine, version] = await Promise.all([this.runtime.info(), this.runtime.version()]);
        return { engine, version };
      } catch (err) {
        const delay = backoffDelay(ENGINE_WAIT, attempt, Math.random());
        this.log.warn(
          { err: (err as Error).message, socket: this.config.dockerSocket, retryInMs: delay },
          'Docker engine not reachable; waiting for it',
        );
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay);
          this.abort.signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
        });
      }
    }
  }

  /** Whether this agent plumbs awsvpc namespaces itself (see network/plumbing.ts). */
  private async choosePlumbing(): Promise<TaskNetworkSettings['plumbing']> {
    const mode = this.config.awsvpcPlumbing;
    if (mode === 'docker') return undefined;
    const filesDir = join(this.config.dataDir, 'task-net');
    if (this.plumber) {
      const netwaitPath = this.netwaitPath;
      return { plumber: this.plumber, filesDir, ...(netwaitPath !== undefined ? { netwaitPath } : {}) };
    }
    // A runtime other than Docker has no namespaces for `ip` to plumb.
    if (!this.ownsRuntime && mode === 'auto') return undefined;
    // rtnetlink from one small program where it is built for this machine and can run from the
    // data dir; `ip` and `nsenter` otherwise.
    const forbidden = plumbingForbiddenReason();
    const netlink =
      forbidden === undefined ? NetlinkPlumber.forThisMachine(join(this.config.dataDir, 'bin')) : undefined;
    const cannotRun = await netlink?.check();
    if (netlink && cannotRun === undefined) {
      return this.withNetwait({ plumber: (this.ownPlumber = netlink), filesDir });
    }
    const why = await processPlumbingUnavailableReason();
    if (cannotRun !== undefined) {
      // netwait would fail the same way from the same directory: pause containers for every task.
      this.log.warn({ reason: cannotRun }, 'plumbing awsvpc namespaces with ip and nsenter instead');
    }
    const plumbing = { plumber: (this.ownPlumber = new ProcessPlumber()), filesDir };
    if (why === undefined) return plumbing;
    if (mode === 'agent') {
      // Asked for explicitly: tasks will fail with the plumber's reason rather than silently change path.
      this.log.error({ reason: why }, 'awsvpc plumbing by the agent was asked for but is unavailable');
      return plumbing;
    }
    this.log.info({ reason: why }, 'awsvpc interfaces will be attached by Docker');
    return undefined;
  }

  /** Lets one-container tasks hold their own namespace, where netwait exists for this machine. */
  private async withNetwait(
    plumbing: NonNullable<TaskNetworkSettings['plumbing']>,
  ): Promise<NonNullable<TaskNetworkSettings['plumbing']>> {
    const program = netwaitProgram();
    if (!program) return plumbing;
    try {
      return { ...plumbing, netwaitPath: await installNetwait(join(this.config.dataDir, 'bin'), program) };
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        'netwait not installed: every awsvpc task gets a pause container',
      );
      return plumbing;
    }
  }

  /** The pause image and the task network; awsvpc tasks fail with the reason when these cannot be made. */
  private async prepareAwsvpc(tn: Parameters<typeof ensureTaskNetwork>[1]): Promise<void> {
    try {
      await ensurePauseImage(
        this.runtime,
        this.ownsRuntime ? new DockerImageImporter(this.config.dockerSocket) : undefined,
      );
    } catch (err) {
      this.log.error(
        { err: (err as Error).message },
        'pause image unavailable: awsvpc tasks will fail to start',
      );
    }
    try {
      await ensureTaskNetwork(this.runtime, tn);
    } catch (err) {
      this.log.error(
        { err: (err as Error).message },
        'task network unavailable: awsvpc tasks will fail to start',
      );
    }
  }

  private async register(): Promise<Registration> {
    const c = this.config;
    return registerInstance(
      {
        api: new EcsApiClient({ endpoint: c.endpoint, region: c.region }),
        state: this.state!.data,
        persist: () => {
          this.state!.markDirty();
          this.state!.flush();
        },
        clock: this.clock,
        log: this.log,
        backoff: { minMs: c.reconnectMinMs, maxMs: c.reconnectMaxMs, factor: 2, jitter: 0.2 },
        signal: this.abort.signal,
      },
      {
        endpoint: c.endpoint,
        region: c.region,
        settings: {
          cluster: c.cluster,
          reservedMemoryMiB: c.reservedMemoryMiB,
          availabilityZone: c.availabilityZone,
          instanceType: c.instanceType,
          attributes: c.attributes,
          agentVersion: AGENT_VERSION,
        },
      },
      async () => (this.facts ??= await this.waitForEngine()),
    );
  }

  // --- session ---------------------------------------------------------------------------------

  private hello(): HelloMessage {
    const c = this.config;
    const reg = findRegistration(this.state!.data, c.endpoint, c.cluster, c.region);
    return {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      hostId: this.state!.data.hostId,
      agentVersion: AGENT_VERSION,
      instances: reg ? [{ containerInstanceArn: reg.containerInstanceArn }] : [],
      ...(c.managedCapacity && this.facts
        ? { managed: computeManagedCapacity(this.facts.engine, c.reservedMemoryMiB, c.availabilityZone) }
        : {}),
    };
  }

  /** Tells the control plane when Docker goes away or comes back (and after every welcome). */
  private onRuntimeHealth(status: 'OK' | 'IMPAIRED', reason?: string): void {
    const changed = this.runtimeHealth?.containerRuntime !== status;
    this.runtimeHealth = { type: 'health', containerRuntime: status, ...(reason ? { reason } : {}) };
    if (changed) this.session?.send(this.runtimeHealth);
  }

  private onReady(w: WelcomeMessage): void {
    if (this.runtimeHealth) this.session?.send(this.runtimeHealth);
    for (const r of w.refusedInstances ?? []) {
      if (r.reason === 'MISSING') {
        this.log.warn(
          { containerInstanceArn: r.containerInstanceArn },
          'the control plane lost this instance; registering anew',
        );
        dropRegistration(this.state!.data, r.containerInstanceArn);
        this.state!.markDirty();
        void this.register()
          .then((reg) => {
            this.registration = reg;
            this.session?.reconnect('registered anew');
          })
          .catch((err: unknown) => {
            if (!(err instanceof RegistrationAbortedError))
              this.log.error({ err }, 'registering anew failed');
          });
      } else {
        this.log.error(
          { containerInstanceArn: r.containerInstanceArn },
          'this container instance was deregistered; it gets no tasks (restart the agent with a fresh --data-dir to register again)',
        );
      }
    }
    this.engine?.onSessionReady();
  }

  private onMessage(m: ServerToAgent): void {
    switch (m.type) {
      case 'welcome':
        return;
      case 'tasks':
        this.engine?.onTasks(m);
        return;
      case 'ack':
        this.engine?.onAck(m.id, m.applied, m.error);
        return;
      case 'logs-open':
        this.openLogStreams.add(m.streamId);
        this.logsHandler?.open(m, (out) => {
          if (out.type === 'logs-end') this.openLogStreams.delete(out.streamId);
          this.session?.send(out);
        });
        return;
      case 'logs-close':
        this.openLogStreams.delete(m.streamId);
        this.logsHandler?.close(m.streamId);
        return;
      default: {
        const never: never = m;
        this.log.warn({ message: never }, 'unknown message from the control plane');
      }
    }
  }

  /** Log readers of a closed session are gone: stop reading for them. */
  private onSessionClosed(): void {
    for (const id of this.openLogStreams) this.logsHandler?.close(id);
    this.openLogStreams.clear();
  }

  // --- AgentTaskView -----------------------------------------------------------------------------

  byTaskArn(taskArn: string): TaskSnapshot | undefined {
    return this.engine?.byTaskArn(taskArn);
  }

  cleanedUpAt(taskArn: string): number | undefined {
    return this.engine?.cleanedUpAt(taskArn);
  }

  byMetadataId(metadataId: string): { task: TaskSnapshot; container: ContainerSnapshot } | undefined {
    return this.engine?.byMetadataId(metadataId);
  }

  stats(dockerId: string): Promise<ContainerStats> {
    return this.runtime.stats(dockerId);
  }

  logs(dockerId: string, options: LogOptions): LogStream {
    return this.engineOrThrow().logs(dockerId, options);
  }

  private engineOrThrow(): TaskEngine {
    if (!this.engine) throw new Error('the agent has not started');
    return this.engine;
  }
}
