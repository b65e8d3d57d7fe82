// The task engine: owns one TaskRunner per task, feeds them what the control plane wants
// (tasks messages) and what the engine sees (Docker events, routed by the task-ARN label), and
// turns their state changes into durable reports. It also serves the read-only task view
// (AgentTaskView) to the metadata endpoint and the logs relay.
//
//   control plane ── tasks ──► onTasks ──► runner.post(desired)
//   Docker events ───────────► route by label ──► runner.post(engine event)
//   runner.changed ──► report due? ──► outbox (state) ──► flush ──► send ──► ack ──► drop
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AgentTask, ReportMessage, TasksMessage } from '../../domain/agent-protocol.js';
import type { Clock } from '../../domain/clock.js';
import { allocateAddress } from '../network/ipam.js';
import { bridgeNameOf, ensureTaskNetwork } from '../network/task-network.js';
import type {
  ContainerRuntime,
  ContainerStats,
  ContainerSummary,
  EventStream,
  LogOptions,
  LogStream,
} from '../runtime/container-runtime.js';
import { ackReport, enqueueReport, takenAddresses } from '../state/agent-state.js';
import type { StateFile } from '../state/state-file.js';
import type { AgentTaskView, ContainerSnapshot, TaskSnapshot } from '../task-view.js';
import { claimContainers, planAdoption } from './adopt.js';
import { LABEL_HOST_ID, LABEL_TASK_ARN } from './labels.js';
import { buildReport, reportFingerprint } from './report.js';
import { containerSnapshot, taskSnapshot } from './snapshot.js';
import { newTaskState } from './task-state.js';
import { TaskRunner, type RunnerOwner, type RunnerSettings } from './task-runner.js';

/** How long a finished task's ARN is remembered, so a late copy of it is never run again. */
export const FINISHED_MEMORY_MS = 24 * 60 * 60_000;

export interface TaskEngineOptions {
  runtime: ContainerRuntime;
  clock: Clock;
  log: Logger;
  state: StateFile;
  settings: RunnerSettings;
  /** Region for ENI DNS names in reports. */
  region: string;
  availabilityZone: string;
  metadataBaseUrl: () => string;
  /** Sends a report if a session is open; false otherwise (it stays in the outbox). */
  send: (msg: ReportMessage) => boolean;
  /** The container runtime became reachable (OK) or unreachable (IMPAIRED). */
  onRuntimeHealth?: (status: 'OK' | 'IMPAIRED', reason?: string) => void;
  /** How long reports wait at most for the actions in flight (default REPORT_HOLD_MS). */
  reportHoldMs?: number;
}

type State = 'new' | 'running' | 'stopped';

/** How long a report waits for others before the state is written and they leave together. */
const REPORT_BATCH_MS = 5;
/**
 * How long reports wait at most while actions of this host are still in flight (a burst of
 * creates and starts): they leave when the last action ends, or after this long.
 */
const REPORT_HOLD_MS = 100;

export class TaskEngine implements AgentTaskView, RunnerOwner {
  readonly runtime: ContainerRuntime;
  readonly clock: Clock;
  readonly log: Logger;
  readonly settings: RunnerSettings;
  private readonly runners = new Map<string, TaskRunner>();
  /** Containers found at start whose tasks the state did not know, until the first full sync. */
  private unclaimed = new Map<string, ContainerSummary[]>();
  private firstSyncDone = false;
  /** Report ids sent in the current session (others are sent when the session opens). */
  private readonly sentThisSession = new Set<string>();
  private sendScheduled = false;
  /** Reports wait for the actions in flight to end (see scheduleSend); the timer that ends the wait. */
  private holdTimer: NodeJS.Timeout | undefined;
  private events: EventStream | undefined;
  private eventsDone: Promise<void> | undefined;
  private networkReady: Promise<{ bridge: string }> | undefined;
  private stateName: State = 'new';

  constructor(private readonly opts: TaskEngineOptions) {
    this.runtime = opts.runtime;
    this.clock = opts.clock;
    this.log = opts.log.child({ component: 'task-engine' });
    this.settings = opts.settings;
  }

  private get data(): StateFile['data'] {
    return this.opts.state.data;
  }

  /** Follows engine events, re-adopts the saved tasks and their containers, starts their runners. */
  async start(): Promise<void> {
    if (this.stateName !== 'new') throw new Error('task engine already started');
    this.stateName = 'running';
    const now = this.clock.now();
    this.data.finished ??= {};
    for (const [arn, at] of Object.entries(this.data.finished))
      if (now - at > FINISHED_MEMORY_MS) delete this.data.finished[arn];

    // Subscribe first: nothing that happens during adoption is missed.
    this.events = this.runtime.events({ labels: { [LABEL_HOST_ID]: this.settings.hostId } });
    this.eventsDone = this.followEvents(this.events);

    const containers = await this.runtime.listContainers({
      labels: { [LABEL_HOST_ID]: this.settings.hostId },
      all: true,
    });
    const plan = planAdoption(new Set(Object.keys(this.data.tasks)), containers);
    this.unclaimed = plan.unclaimed;
    for (const state of Object.values(this.data.tasks)) {
      state.needsResync = true;
      this.startRunner(new TaskRunner(state, this));
    }
    this.log.info(
      {
        tasks: this.runners.size,
        adoptedContainers: [...plan.known.values()].reduce((n, l) => n + l.length, 0),
        unclaimedTasks: this.unclaimed.size,
      },
      'task engine started',
    );
  }

  /** Stops every runner; containers keep running (a restarted agent adopts them). */
  async stop(): Promise<void> {
    if (this.stateName !== 'running') return;
    this.stateName = 'stopped';
    this.events?.close();
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    if (this.holdTimer !== undefined) this.releaseReports();
    await this.eventsDone;
  }

  // --- control plane ------------------------------------------------------------------------------

  onTasks(msg: TasksMessage): void {
    if (this.stateName !== 'running') return;
    const listed = new Set<string>();
    for (const t of msg.tasks) {
      listed.add(t.taskArn);
      this.onTask(t);
    }
    if (!msg.full) return;
    for (const r of this.runners.values()) {
      if (!listed.has(r.taskArn) && r.state.known !== 'STOPPED') r.post({ type: 'unassigned' });
    }
    if (!this.firstSyncDone) {
      this.firstSyncDone = true;
      void this.removeUnclaimed();
    }
  }

  private onTask(t: AgentTask): void {
    const existing = this.runners.get(t.taskArn);
    if (existing) {
      existing.post({ type: 'desired', task: t });
      return;
    }
    if (this.data.finished?.[t.taskArn] !== undefined) return;
    const state = newTaskState(t, {
      uuid: randomUUID,
      randomHex: (n) =>
        randomBytes(Math.ceil(n / 2))
          .toString('hex')
          .slice(0, n),
    });
    const found = this.unclaimed.get(t.taskArn);
    if (found) {
      this.unclaimed.delete(t.taskArn);
      const extra = claimContainers(state, found);
      for (const x of extra) void this.removeQuietly(x.id);
    }
    this.data.tasks[t.taskArn] = state;
    const runner = new TaskRunner(state, this);
    this.startRunner(runner);
    runner.post({ type: 'desired', task: t });
  }

  private startRunner(r: TaskRunner): void {
    this.runners.set(r.taskArn, r);
    r.start();
  }

  /** After the first full sync: containers of tasks nobody wants any more go. */
  private async removeUnclaimed(): Promise<void> {
    const left = [...this.unclaimed.entries()];
    this.unclaimed.clear();
    for (const [arn, list] of left) {
      this.log.warn(
        { task: arn, containers: list.length },
        'removing containers of a task this host no longer runs',
      );
      for (const c of list) await this.removeQuietly(c.id);
    }
  }

  private async removeQuietly(id: string): Promise<void> {
    try {
      await this.runtime.removeContainer(id, { force: true, removeVolumes: true });
    } catch (err) {
      this.log.warn({ err, container: id }, 'could not remove an orphaned container');
    }
  }

  // --- engine events ---------------------------------------------------------------------------

  private async followEvents(stream: EventStream): Promise<void> {
    try {
      for await (const ev of stream) {
        if (ev.type === 'stream') {
          if (ev.state === 'disconnected') {
            this.log.warn({ reason: ev.reason }, 'Docker engine unreachable; tasks wait for it');
            this.opts.onRuntimeHealth?.('IMPAIRED', `Docker engine unreachable: ${ev.reason}`);
          } else {
            this.opts.onRuntimeHealth?.('OK');
            if (ev.resumed) {
              this.log.info('Docker engine back; re-inspecting every task');
              for (const r of this.runners.values()) r.post({ type: 'resync-needed' });
            }
          }
          continue;
        }
        const arn = ev.labels[LABEL_TASK_ARN];
        if (arn === undefined) continue;
        this.runners.get(arn)?.post({ type: 'engine', event: ev });
      }
    } catch (err) {
      if (this.stateName === 'running') this.log.error({ err }, 'Docker event stream ended');
    }
  }

  // --- RunnerOwner ---------------------------------------------------------------------------------

  metadataBaseUrl(): string {
    return this.opts.metadataBaseUrl();
  }

  ensureTaskNetwork(): Promise<{ bridge: string }> {
    const tn = this.settings.taskNetwork;
    if (!tn) return Promise.reject(new Error('no task network configured'));
    this.networkReady ??= ensureTaskNetwork(this.runtime, tn).then(
      (n) => ({ bridge: bridgeNameOf(n) }),
      (err: unknown) => {
        this.networkReady = undefined;
        throw err;
      },
    );
    return this.networkReady;
  }

  allocateAddress(_taskArn: string): string | undefined {
    const tn = this.settings.taskNetwork;
    if (!tn) return undefined;
    const ip = allocateAddress(tn.cidr, takenAddresses(this.data), this.data.lastAddress);
    if (ip !== undefined) this.data.lastAddress = ip;
    return ip;
  }

  flushState(taskArn: string): void {
    this.opts.state.markDirty(taskArn);
    this.opts.state.flush();
  }

  changed(runner: TaskRunner): void {
    const state = runner.state;
    const report = buildReport(state, this.opts.region);
    const fp = reportFingerprint(report);
    if (fp !== state.lastReport) {
      state.lastReport = fp;
      state.sentStatus = report.status;
      enqueueReport(this.data, { id: randomUUID(), change: report, queuedAt: this.clock.now() });
      this.scheduleSend();
    }
    this.opts.state.markDirty(runner.taskArn);
  }

  hasPendingReport(taskArn: string): boolean {
    return this.data.outbox.some((e) => e.change.taskArn === taskArn);
  }

  finished(runner: TaskRunner): void {
    this.runners.delete(runner.taskArn);
    delete this.data.tasks[runner.taskArn];
    const now = this.clock.now();
    const finished = (this.data.finished ??= {});
    // Added in time order, and an object keeps (non-numeric) keys in the order they were added:
    // the entries that aged out are at the front, so a clean-up does not walk a day of tasks.
    for (const arn in finished) {
      if (now - finished[arn]! > FINISHED_MEMORY_MS) delete finished[arn];
      else break;
    }
    finished[runner.taskArn] = now;
    this.opts.state.markDirty(runner.taskArn);
    this.log.info({ task: runner.taskArn }, 'task cleaned up');
  }

  // --- reports -------------------------------------------------------------------------------------

  /**
   * Reports leave only after the state that made them is on disk. They wait a few milliseconds
   * for company, so that a burst of tasks costs one journal write and one batch of messages per
   * wait rather than one per event-loop turn. While Docker calls of this host are still running
   * (fifty starts take two seconds on two cores) they wait longer, up to REPORT_HOLD_MS, and leave
   * as soon as the last call ends: every report handled costs the control plane a transaction and
   * a pass of the service scheduler, and a handful at once cost barely more than one: held so,
   * a 50-task converge costs Berth a quarter to a third less CPU (bench:overhead, the two builds
   * alternated), CPU the engine starting the containers was waiting for. The last task of a burst
   * waits no longer than before: nothing is in flight once its start has returned.
   */
  private scheduleSend(): void {
    if (this.sendScheduled) return;
    this.sendScheduled = true;
    setTimeout(() => {
      if (this.actionsInFlight() === 0 || this.stateName !== 'running') {
        this.releaseReports();
        return;
      }
      const hold = this.opts.reportHoldMs ?? REPORT_HOLD_MS;
      this.holdTimer = setTimeout(() => this.releaseReports(), Math.max(0, hold - REPORT_BATCH_MS));
    }, REPORT_BATCH_MS);
  }

  actionEnded(): void {
    if (this.holdTimer !== undefined && this.actionsInFlight() === 0) this.releaseReports();
  }

  private actionsInFlight(): number {
    let n = 0;
    for (const r of this.runners.values()) n += r.actionsInFlight;
    return n;
  }

  private releaseReports(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.sendScheduled = false;
    this.sendPending();
  }

  private sendPending(): void {
    try {
      this.opts.state.flush();
    } catch (err) {
      this.log.error({ err }, 'could not write the agent state; reports wait');
      setTimeout(() => this.scheduleSend(), 1000).unref();
      return;
    }
    for (const e of this.data.outbox) {
      if (this.sentThisSession.has(e.id)) continue;
      if (!this.opts.send({ type: 'report', id: e.id, change: e.change })) return;
      this.sentThisSession.add(e.id);
    }
  }

  /** A session was welcomed: everything unacknowledged goes (again). */
  onSessionReady(): void {
    this.sentThisSession.clear();
    this.scheduleSend();
  }

  onAck(id: string, applied: boolean, error?: string): void {
    this.sentThisSession.delete(id);
    const entry = this.data.outbox.find((e) => e.id === id);
    if (!ackReport(this.data, id)) return;
    if (!applied)
      this.log.warn(
        { report: id, task: entry?.change.taskArn, error },
        'control plane refused a report; dropped',
      );
    this.opts.state.markDirty(entry?.change.taskArn);
    // A runner waiting for its last report before cleaning up looks again.
    if (entry) this.runners.get(entry.change.taskArn)?.post({ type: 'tick' });
  }

  // --- AgentTaskView ---------------------------------------------------------------------------------

  cleanedUpAt(taskArn: string): number | undefined {
    return this.data.finished?.[taskArn];
  }

  byTaskArn(taskArn: string): TaskSnapshot | undefined {
    const r = this.runners.get(taskArn);
    return r ? taskSnapshot(r.state, this.opts.availabilityZone) : undefined;
  }

  byMetadataId(metadataId: string): { task: TaskSnapshot; container: ContainerSnapshot } | undefined {
    for (const r of this.runners.values()) {
      const c = r.state.containers.find((x) => x.metadataId === metadataId);
      if (c)
        return {
          task: taskSnapshot(r.state, this.opts.availabilityZone),
          container: containerSnapshot(r.state, c),
        };
    }
    return undefined;
  }

  stats(dockerId: string): Promise<ContainerStats> {
    return this.runtime.stats(dockerId);
  }

  logs(dockerId: string, options: LogOptions): LogStream {
    return lazyLogStream(this.runtime.logs(dockerId, options));
  }

  /** Tasks the engine runs now (for tests and status output). */
  get taskCount(): number {
    return this.runners.size;
  }
}

/** A LogStream over a stream that is still being opened. */
export function lazyLogStream(opening: Promise<LogStream>): LogStream {
  let closed = false;
  opening.then(
    (s) => {
      if (closed) s.close();
    },
    () => undefined,
  );
  return {
    close: () => {
      closed = true;
      opening.then(
        (s) => s.close(),
        () => undefined,
      );
    },
    async *[Symbol.asyncIterator]() {
      const s = await opening;
      if (closed) return;
      yield* s;
    },
  };
}
