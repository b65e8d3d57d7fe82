// One runner per task: the only code that changes the task's state. Its loop:
//
//     ┌──────────────────────────────────────────────────────────────┐
//     ▼                                                              │
//   wait for an event or a timer ─► reduce each event (reduce.ts)    │
//     ─► normalize ─► owner.changed (persist, report if it changed)  │
//     ─► computeNextActions (transitions.ts) ─► launch the actions ──┘
//
// Actions are Docker calls that run concurrently (several pulls, starts or stops at once); each
// ends by posting its result as an event, so results, engine events and new desired states all
// go through the same reduce, in the order they arrived, on this loop only.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.js';
import type { BackoffPolicy } from '../backoff.js';
import {
  dnsFilesIn,
  noneHostsFile,
  removeTaskDnsFiles,
  taskDnsFilePaths,
  writeTaskDnsFiles,
  type TaskDnsFiles,
} from '../network/dns-files.js';
import { gatewayOf, privateDnsName, type Cidr } from '../network/ipam.js';
import { canHoldOwnNetwork, READY_FILE_NAME } from '../network/netwait.js';
import { macAddressFor } from '../network/plumbing.js';
import {
  plumbOwnNetwork,
  prepareOwnNetwork,
  readyDirOf,
  removePause,
  startPause,
  taskFilesOf,
  type TaskNetworkSettings,
} from '../network/task-network.js';
import type { ContainerRuntime, ImageCommand, PullPolicy } from '../runtime/container-runtime.js';
import {
  CannotCreateContainerError,
  CannotCreateNetworkError,
  CannotCreateVolumeError,
  ContainerNotFoundError,
  isRuntimeError,
} from '../runtime/errors.js';
import { buildContainerSpec, effectiveDefinition, isNetworkNone, type SpecInput } from './container-spec.js';
import { busyKeyOf, type Action, type RunnerEvent } from './events.js';
import { LABEL_CONTAINER_NAME, LABEL_PAUSE, LABEL_TASK_ARN } from './labels.js';
import { normalize, reduce, type ReduceContext } from './reduce.js';
import { PAUSE_TARGET, type ErrorInfo, type TaskState } from './task-state.js';
import { computeNextActions } from './transitions.js';
import { planVolumes } from './volumes.js';

export interface RunnerSettings {
  hostId: string;
  pullPolicy: PullPolicy;
  cleanupWaitMs: number;
  containerStartTimeoutMs: number;
  retryPolicy: BackoffPolicy;
  /** awsvpc: the host's task network; undefined when this agent cannot run awsvpc tasks. */
  taskNetwork?: TaskNetworkSettings & { cidr: Cidr };
  /**
   * Where tasks' own files go (a directory per task): containers on the `none` network get their
   * resolv.conf and hosts there and a namespace the engine does not network (isNetworkNone).
   * Without it they go on Docker's own `none` network.
   */
  filesDir?: string;
}

/** What a runner needs from the engine that owns it. */
export interface RunnerOwner {
  readonly runtime: ContainerRuntime;
  readonly clock: Clock;
  readonly log: Logger;
  readonly settings: RunnerSettings;
  /** Base URL of the task metadata endpoint as containers see it. */
  metadataBaseUrl(): string;
  /** The task network exists (created when missing); its Linux bridge. */
  ensureTaskNetwork(): Promise<{ bridge: string }>;
  /** A free awsvpc address for the task, or undefined when the subnet is full. */
  allocateAddress(taskArn: string): string | undefined;
  /** Writes the task's state now (before an action whose effect must not be forgotten). */
  flushState(taskArn: string): void;
  /** The runner changed its state: persist it, report it if due. */
  changed(runner: TaskRunner): void;
  /** The task's report has not been acknowledged yet (clean-up waits for it). */
  hasPendingReport(taskArn: string): boolean;
  /** The task is cleaned up: forget it. */
  finished(runner: TaskRunner): void;
  /** One of the runner's actions (a Docker call, a plumbing step) has ended, however it ended. */
  actionEnded(): void;
}

export function toErrorInfo(e: unknown): ErrorInfo {
  if (isRuntimeError(e)) return { name: e.name, message: e.message, retriable: e.retriable, kind: e.kind };
  if (e instanceof Error) return { name: e.name || 'Error', message: e.message, retriable: false };
  return { name: 'Error', message: String(e), retriable: false };
}

export class TaskRunner {
  private readonly inbox: RunnerEvent[] = [];
  private readonly busy = new Map<string, Action>();
  private waker: (() => void) | undefined;
  private stopped = false;
  private done: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(
    readonly state: TaskState,
    private readonly owner: RunnerOwner,
  ) {
    this.log = owner.log.child({ task: state.task.taskArn });
  }

  get taskArn(): string {
    return this.state.task.taskArn;
  }

  start(): void {
    this.done ??= this.loop().catch((err: unknown) => {
      // A bug in a pure step: keep the agent alive, the task stays where it is.
      this.log.error({ err }, 'task runner failed');
    });
  }

  post(e: RunnerEvent): void {
    if (this.stopped) return;
    this.inbox.push(e);
    this.wake();
  }

  /** Actions running now. */
  get actionsInFlight(): number {
    return this.busy.size;
  }

  /** Ends the loop (actions in flight finish in the background; their results are dropped). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.done;
  }

  private wake(): void {
    const w = this.waker;
    this.waker = undefined;
    w?.();
  }

  private context(): ReduceContext {
    const s = this.owner.settings;
    return {
      now: this.owner.clock.now(),
      random: Math.random(),
      busy: new Set(this.busy.keys()),
      retryPolicy: s.retryPolicy,
      cleanupWaitMs: s.cleanupWaitMs,
      containerStartTimeoutMs: s.containerStartTimeoutMs,
    };
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const ctx = this.context();
      for (const e of this.inbox.splice(0)) reduce(this.state, e, ctx);
      normalize(this.state, ctx);
      this.owner.changed(this);
      if (this.state.cleaned) {
        this.owner.finished(this);
        return;
      }
      const next = computeNextActions(this.state, ctx.busy, ctx.now, {
        holdCleanup: this.owner.hasPendingReport(this.taskArn),
      });
      for (const a of next.actions) this.launch(a);
      if (next.actions.length > 0) continue;
      await this.sleep(next.wakeAt);
    }
  }

  private sleep(wakeAt: number | undefined): Promise<void> {
    if (this.inbox.length > 0 || this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.waker = () => {
        clearTimeout(timer);
        resolve();
      };
      if (wakeAt !== undefined) {
        timer = setTimeout(() => this.wake(), Math.max(0, wakeAt - this.owner.clock.now()));
      }
    });
  }

  private launch(a: Action): void {
    const key = busyKeyOf(a);
    this.busy.set(key, a);
    reduce(this.state, { type: 'began', action: a }, this.context());
    this.log.debug({ action: a }, 'action');
    this.perform(a)
      .then(
        (events) => {
          this.inbox.push(...events);
        },
        (err: unknown) => {
          const error = toErrorInfo(err);
          this.log.warn({ action: a, error: `${error.name}: ${error.message}` }, 'action failed');
          this.inbox.push({ type: 'failed', action: a, error });
        },
      )
      .finally(() => {
        this.busy.delete(key);
        this.owner.actionEnded();
        this.wake();
      });
  }

  // --- actions ---------------------------------------------------------------------------------

  private async perform(a: Action): Promise<RunnerEvent[]> {
    switch (a.kind) {
      case 'resync':
        return this.resync();
      case 'setup-network':
        return this.setupNetwork();
      case 'create-volumes':
        return this.createVolumes();
      case 'pull':
        return this.pull(a.container);
      case 'create':
        return this.create(a.container);
      case 'start':
        return this.startContainer(a.container);
      case 'stop':
        return this.stopContainer(a.container, a.timeoutSeconds);
      case 'teardown-network':
        return this.teardownNetwork();
      case 'cleanup':
        return this.cleanup();
      default: {
        const never: never = a;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
  }

  private get runtime(): ContainerRuntime {
    return this.owner.runtime;
  }

  private container(name: string): TaskState['containers'][number] {
    const c = this.state.containers.find((x) => x.name === name);
    if (!c) throw new Error(`no container ${name} in task ${this.taskArn}`);
    return c;
  }

  /** Inspects every container the task has (or may have, after a crash) on the engine. */
  private async resync(): Promise<RunnerEvent[]> {
    const listed = await this.runtime.listContainers({
      labels: { [LABEL_TASK_ARN]: this.taskArn },
      all: true,
    });
    const events: RunnerEvent[] = [];
    for (const c of this.state.containers) {
      const mine = listed.filter(
        (s) => s.labels[LABEL_CONTAINER_NAME] === c.name && s.labels[LABEL_PAUSE] === undefined,
      );
      const id = c.dockerId ?? (mine.find((s) => s.name === c.dockerName) ?? mine[0])?.id;
      if (id === undefined) continue;
      try {
        events.push({
          type: 'inspected',
          target: c.name,
          dockerId: id,
          state: await this.runtime.inspectContainer(id),
        });
      } catch (e) {
        if (!(e instanceof ContainerNotFoundError)) throw e;
        events.push({ type: 'inspected', target: c.name, dockerId: id });
      }
    }
    const n = this.state.network;
    // A task holding its own namespace has no pause container to look for.
    if (n && !n.ownNetwork) {
      const id = n.pauseDockerId ?? listed.find((s) => s.labels[LABEL_PAUSE] !== undefined)?.id;
      if (id !== undefined) {
        try {
          events.push({
            type: 'inspected',
            target: PAUSE_TARGET,
            dockerId: id,
            state: await this.runtime.inspectContainer(id),
          });
        } catch (e) {
          if (!(e instanceof ContainerNotFoundError)) throw e;
          events.push({ type: 'inspected', target: PAUSE_TARGET, dockerId: id });
        }
      }
    }
    await this.finishOwnPlumbing(events);
    events.push({ type: 'resynced' });
    return events;
  }

  private async setupNetwork(): Promise<RunnerEvent[]> {
    const n = this.state.network;
    const tn = this.owner.settings.taskNetwork;
    if (!n) return [];
    if (!tn)
      throw new CannotCreateNetworkError('this agent has no awsvpc task network configured', {
        kind: 'invalid',
        retriable: false,
      });
    const { bridge } = await this.owner.ensureTaskNetwork();
    if (n.ip === undefined) {
      const ip = this.owner.allocateAddress(this.taskArn);
      if (ip === undefined) {
        throw new CannotCreateNetworkError(`no free address left in the task subnet ${tn.cidr.text}`, {
          kind: 'conflict',
          retriable: false,
        });
      }
      // Recorded and written before the pause container exists: the address is never handed out twice.
      reduce(
        this.state,
        {
          type: 'address',
          ip,
          prefixLength: tn.cidr.prefix,
          gateway: gatewayOf(tn.cidr),
          subnetCidr: tn.cidr.text,
        },
        this.context(),
      );
      this.owner.flushState(this.taskArn);
    }
    if (tn.plumbing?.netwaitPath !== undefined && canHoldOwnNetwork(this.state.task)) {
      // Its files are written by `create`, beside the engine's work (prepareOwnNetwork).
      return [
        {
          type: 'network-ready',
          ownNetwork: true,
          macAddress: macAddressFor(n.ip!),
          dnsFilesDir: taskFilesOf(this.state.task, tn.plumbing.filesDir).dir,
        },
      ];
    }
    const r = await startPause(this.runtime, this.state.task, n.pauseName, n.ip!, { ...tn, bridge });
    return [
      {
        type: 'network-ready',
        pauseDockerId: r.dockerId,
        ...(r.macAddress ? { macAddress: r.macAddress } : {}),
        ...(r.dnsFilesDir ? { dnsFilesDir: r.dnsFilesDir } : {}),
      },
    ];
  }

  private async createVolumes(): Promise<RunnerEvent[]> {
    const plan = planVolumes(this.state.task);
    for (const spec of plan.create) await this.runtime.createVolume(spec);
    for (const name of plan.mustExist) {
      if (!(await this.runtime.inspectVolume(name))) {
        throw new CannotCreateVolumeError(
          `shared volume ${name} does not exist and autoprovision is not set`,
          { kind: 'not-found', retriable: false },
        );
      }
    }
    return [{ type: 'volumes-ready' }];
  }

  private async pull(name: string): Promise<RunnerEvent[]> {
    const c = this.container(name);
    const r = await this.runtime.pullImage(c.image, { policy: this.owner.settings.pullPolicy });
    return [{ type: 'pulled', container: name, imageId: r.imageId, imageCommand: r.imageCommand }];
  }

  private async create(name: string): Promise<RunnerEvent[]> {
    const c = this.container(name);
    const dockerNames = Object.fromEntries(this.state.containers.map((x) => [x.name, x.dockerName]));
    const noneFiles = this.noneNetworkFiles(name);
    const built = buildContainerSpec({
      task: this.state.task,
      container: name,
      dockerName: c.dockerName,
      metadataId: c.metadataId,
      dockerNames,
      ...(this.state.network?.pauseDockerId ? { pauseContainer: this.state.network.pauseDockerId } : {}),
      ...(this.state.network?.dnsFilesDir ? { dnsFiles: dnsFilesIn(this.state.network.dnsFilesDir) } : {}),
      ...(noneFiles ? { dnsFiles: dnsFilesIn(noneFiles.dir) } : {}),
      ...(this.state.network?.ownNetwork ? { ownNetwork: await this.ownNetworkInput(c) } : {}),
      volumes: planVolumes(this.state.task).sources,
      metadataBaseUrl: this.owner.metadataBaseUrl(),
      hostId: this.owner.settings.hostId,
    });
    // A container holding its own namespace mounts the task's DNS files and ready directory; the
    // engine wants them at start, so they are written while it creates the container instead of
    // before (50 tasks' files ahead of the first create were 50 ms of a converge).
    const n = this.state.network;
    const files =
      n?.ownNetwork && n.ip !== undefined && n.dnsFilesDir !== undefined
        ? prepareOwnNetwork(this.state.task, n.ip, n.dnsFilesDir)
        : noneFiles
          ? this.writeNoneNetworkFiles(name, noneFiles)
          : Promise.resolve();
    // A failed create ends the action at once (its retry writes the files again); otherwise the
    // action waits for the files too, and their failure fails it.
    files.catch(() => undefined);
    let id: string;
    try {
      id = await this.runtime.createContainer(built.spec);
    } catch (e) {
      // Created before a crash that came before the state was saved: the name says it is ours.
      if (!(e instanceof CannotCreateContainerError && e.kind === 'conflict')) throw e;
      const existing = await this.runtime.inspectContainer(c.dockerName);
      if (existing.labels[LABEL_TASK_ARN] !== this.taskArn) throw e;
      id = existing.id;
    }
    await files;
    return [
      {
        type: 'created',
        container: name,
        dockerId: id,
        labels: built.spec.labels ?? {},
        limits: built.limits,
        logDriver: built.logDriver,
        logOptions: built.logOptions,
      },
    ];
  }

  private async startContainer(name: string): Promise<RunnerEvent[]> {
    const c = this.container(name);
    if (!c.dockerId) throw new ContainerNotFoundError(c.dockerName);
    await this.runtime.startContainer(c.dockerId);
    const state = await this.runtime.inspectContainer(c.dockerId);
    const n = this.state.network;
    if (n?.ownNetwork && state.status === 'running') await this.plumbOwn(c.dockerId, state.pid);
    return [{ type: 'started', container: name, state }];
  }

  /**
   * After a restart: a container holding its own namespace that runs but was never told its
   * network is ready (the agent died between its start and its plumbing) is plumbed now, or
   * stopped if that fails; netwait would otherwise give up after a minute.
   */
  private async finishOwnPlumbing(events: RunnerEvent[]): Promise<void> {
    const n = this.state.network;
    if (!n?.ownNetwork || !n.dnsFilesDir || this.state.desired !== 'RUNNING') return;
    if (existsSync(join(readyDirOf(n.dnsFilesDir), READY_FILE_NAME))) return;
    for (const e of events) {
      if (e.type !== 'inspected' || e.target === PAUSE_TARGET || e.state?.status !== 'running') continue;
      this.owner.log.warn({ task: this.taskArn }, "plumbing a task's network left unfinished by a restart");
      await this.plumbOwn(e.state.id, e.state.pid);
    }
  }

  /** What the container holding its own namespace needs besides the usual: see network/netwait.ts. */
  /** A container on the `none` network: where its own resolv.conf and hosts go (see isNetworkNone). */
  private noneNetworkFiles(name: string): TaskDnsFiles | undefined {
    const dir = this.owner.settings.filesDir;
    if (dir === undefined || !isNetworkNone(this.state.task, name)) return undefined;
    return taskDnsFilePaths(taskFilesOf(this.state.task, dir).dir, name);
  }

  /** What Docker would write on its `none` network, with the definition's DNS settings. */
  private writeNoneNetworkFiles(name: string, files: TaskDnsFiles): Promise<void> {
    const def = effectiveDefinition(this.state.task, name);
    return writeTaskDnsFiles(
      files,
      {
        ...(def.dnsServers?.length ? { dnsServers: def.dnsServers } : {}),
        ...(def.dnsSearchDomains?.length ? { dnsSearchDomains: def.dnsSearchDomains } : {}),
      },
      noneHostsFile(def.extraHosts?.map((h) => ({ hostname: h.hostname, ipAddress: h.ipAddress }))),
    );
  }

  private async ownNetworkInput(
    c: TaskState['containers'][number],
  ): Promise<NonNullable<SpecInput['ownNetwork']>> {
    const n = this.state.network;
    const netwaitPath = this.owner.settings.taskNetwork?.plumbing?.netwaitPath;
    if (!n?.ip || !n.dnsFilesDir || netwaitPath === undefined) {
      throw new CannotCreateContainerError(
        "this agent can no longer plumb the task's own network namespace (netwait unavailable)",
        { kind: 'invalid', retriable: false },
      );
    }
    return {
      hostname: privateDnsName(n.ip, this.state.task.region),
      netwaitPath,
      readyDir: readyDirOf(n.dnsFilesDir),
      image: c.imageCommand ?? (await this.inspectImageCommand(c.imageId ?? c.image)),
    };
  }

  /** For a container pulled by an agent that did not record the image's command yet. */
  private async inspectImageCommand(image: string): Promise<ImageCommand> {
    const info = await this.runtime.inspectImage(image);
    if (!info)
      throw new CannotCreateContainerError(`image ${image} is not on this host`, { kind: 'not-found' });
    return info.config;
  }

  /**
   * Gives the just-started container its interface, then lets its program run. On failure the
   * container is killed (its program never ran; it must not hold the address once the task
   * releases it) and the start fails for good with the reason.
   */
  private async plumbOwn(dockerId: string, pid: number | undefined): Promise<void> {
    const n = this.state.network!;
    const tn = this.owner.settings.taskNetwork;
    try {
      if (!tn || pid === undefined || !n.ip || !n.dnsFilesDir)
        throw new CannotCreateNetworkError("the task's container has no process to plumb");
      const { bridge } = await this.owner.ensureTaskNetwork();
      await plumbOwnNetwork(pid, n.ip, n.dnsFilesDir, { ...tn, bridge });
    } catch (e) {
      await this.runtime.stopContainer(dockerId, 0).catch(() => undefined);
      throw new CannotCreateNetworkError(`setting up the task's network: ${(e as Error).message}`, {
        kind: 'invalid',
        retriable: false,
        cause: e,
      });
    }
  }

  private async stopContainer(name: string, timeoutSeconds: number): Promise<RunnerEvent[]> {
    const c = this.container(name);
    if (!c.dockerId) return [{ type: 'stopped', container: name }];
    try {
      await this.runtime.stopContainer(c.dockerId, timeoutSeconds);
      return [{ type: 'stopped', container: name, state: await this.runtime.inspectContainer(c.dockerId) }];
    } catch (e) {
      if (e instanceof ContainerNotFoundError) return [{ type: 'stopped', container: name }];
      throw e;
    }
  }

  private async teardownNetwork(): Promise<RunnerEvent[]> {
    const n = this.state.network;
    if (n?.ownNetwork) {
      if (n.dnsFilesDir) await removeTaskDnsFiles(n.dnsFilesDir);
    } else if (n) await removePause(this.runtime, n.pauseDockerId ?? n.pauseName, n.dnsFilesDir);
    return [{ type: 'network-released' }];
  }

  private async cleanup(): Promise<RunnerEvent[]> {
    // By name when the id is unknown: a create may have happened just before a crash. Removal is idempotent.
    for (const c of this.state.containers) {
      await this.runtime.removeContainer(c.dockerId ?? c.dockerName, { force: true, removeVolumes: true });
    }
    const n = this.state.network;
    if (n?.ownNetwork) {
      if (n.dnsFilesDir) await removeTaskDnsFiles(n.dnsFilesDir);
    } else if (n) await removePause(this.runtime, n.pauseDockerId ?? n.pauseName, n.dnsFilesDir);
    const filesDir = this.owner.settings.filesDir;
    if (filesDir !== undefined && this.state.containers.some((c) => isNetworkNone(this.state.task, c.name)))
      await removeTaskDnsFiles(taskFilesOf(this.state.task, filesDir).dir);
    for (const v of Object.values(this.state.volumes.owned)) await this.runtime.removeVolume(v);
    return [{ type: 'cleaned' }];
  }
}
