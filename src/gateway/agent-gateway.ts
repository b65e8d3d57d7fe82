// The agent gateway: where `berth agent` processes keep their session (a websocket at
// AGENT_SESSION_PATH on the API's HTTP server). It records who is connected, pushes each host
// the tasks assigned to it (all of them on every connect, then changes from the store's feed),
// applies the agents' reports, and relays `berth logs`. See README.md for the message diagram.
//
// How the store is kept truthful about connectivity whatever the interleaving of hellos,
// replacements, closes and timeouts: the in-memory SessionRegistry is the truth, and every
// agentConnected write (instance or managed host) is a per-key serialised job that reads the
// registry when it runs. The last job for a key always runs after the last registry change
// for it, so it writes the final state.
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { applyTaskReports, buildAgentTask, type ReportResult } from '../control/tasks.js';
import {
  AGENT_SESSION_PATH,
  SESSION_CLOSE_CODES,
  parseAgentMessage,
  type AgentTask,
  type TaskStateReport,
  type WelcomeMessage,
  type HealthMessage,
} from '../domain/agent-protocol.js';
import { taskArn as buildTaskArn } from '../domain/arn.js';
import { toEpochSeconds, type Clock } from '../domain/clock.js';
import { withRuntimeHealth } from '../domain/container-instance/health.js';
import type { ContainerInstanceRecord, ManagedHostRecord, TaskRecord } from '../domain/records.js';
import { updateRecord } from '../store/cas.js';
import { keys } from '../store/keys.js';
import { CompactedError, type Change, type Store, type StoredRecord, type Watcher } from '../store/store.js';
import type { GatewayConfig } from './config.js';
import { KeySerializer } from './key-serializer.js';
import { registerLogsRoute } from './logs-relay.js';
import { computeManagedHost } from './managed-host.js';
import { checkHealth, checkHello, checkLogsData, checkLogsEnd, checkReport, reportId } from './messages.js';
import { ReportQueue } from './report-queue.js';
import { containerInstanceKeyOf, decideTaskPush, isTaskOnHost, parseTaskKey } from './routing.js';
import { AgentSession } from './session.js';
import { SessionRegistry } from './session-registry.js';
import { listAcrossScopes, listHostTasks } from './store-scan.js';

export interface TaskBridgeDeps {
  store: Store;
  clock: Clock;
  log: Logger;
}

/** The task module's entry points the gateway calls (src/control/tasks.ts; replaceable in tests). */
export interface TaskBridge {
  /** One result per report, in order (applyTaskReports in src/control/tasks.ts). */
  applyTaskReports(deps: TaskBridgeDeps, reports: readonly TaskStateReport[]): Promise<ReportResult[]>;
  buildAgentTask(deps: TaskBridgeDeps, task: StoredRecord<TaskRecord>): Promise<AgentTask>;
}

export interface AgentGatewayOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  config: GatewayConfig;
  /** For `berth logs` references without an ARN. */
  accountId: string;
  defaultRegion: string;
  tasks?: TaskBridge;
}

/**
 * Reports applied together at most: each writes its task and perhaps its host, and a store
 * transaction holds at most 128 writes (larger batches are applied one by one).
 */
const MAX_REPORTS_PER_APPLY = 48;

/** Agent messages larger than this are refused by the socket (reports and log chunks are far smaller). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** On stop, how long agents get to answer the close handshake before their sockets are cut. */
const CLOSE_GRACE_MS = 1_000;
/** Pause before following the store's feed again after it failed (other than compaction). */
const REWATCH_DELAY_MS = 200;

interface Connection {
  ws: WebSocket;
  remote: string;
  openedAt: number;
  lastSeen: number;
  helloStarted: boolean;
  session: AgentSession | undefined;
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export class AgentGateway {
  private state: State = 'new';
  private readonly wss: WebSocketServer;
  private readonly registry = new SessionRegistry<AgentSession>();
  private readonly writes = new KeySerializer();
  private readonly conns = new Set<Connection>();
  private readonly tasks: TaskBridge;
  private readonly deps: TaskBridgeDeps;
  private readonly log: Logger;
  private server: HttpServer | undefined;
  private watcher: Watcher | undefined;
  private rewatchTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Last revision seen on the feed (to resume from after a feed error). */
  private lastRevision = 0;
  /** Each session's reports on their way into the store (see report-queue.ts). */
  private readonly reportQueues = new WeakMap<AgentSession, ReportQueue>();

  constructor(private readonly opts: AgentGatewayOptions) {
    this.log = opts.log.child({ component: 'agent-gateway' });
    this.tasks = opts.tasks ?? { applyTaskReports, buildAgentTask };
    this.deps = { store: opts.store, clock: opts.clock, log: opts.log };
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
    });
  }

  /** Adds `GET /berth/v1/logs` to the API app (before it listens). */
  registerRoutes(app: FastifyInstance): void {
    registerLogsRoute(app, {
      store: this.opts.store,
      accountId: this.opts.accountId,
      defaultRegion: this.opts.defaultRegion,
      firstAnswerWaitMs: this.opts.config.logsFirstAnswerWaitMs,
      maxBufferedBytes: this.opts.config.logsMaxBufferedBytes,
      sessionForTask: (task) => this.sessionForTask(task),
    });
  }

  /**
   * Follows the store's feed, marks disconnected what a previous process left connected, then
   * accepts sessions on `server`'s upgrade requests and starts the heartbeat.
   */
  async start(server: HttpServer): Promise<void> {
    if (this.state !== 'new') throw new Error(`cannot start an agent gateway that is ${this.state}`);
    this.state = 'starting';
    this.server = server;
    this.lastRevision = await this.opts.store.revision();
    this.follow(this.lastRevision);
    await this.sweepStaleConnectivity();
    server.on('upgrade', this.onUpgrade);
    this.heartbeat = setInterval(() => this.beat(), this.opts.config.heartbeatIntervalMs);
    this.heartbeat.unref();
    this.state = 'running';
    this.log.info({ path: AGENT_SESSION_PATH }, 'agent gateway accepting sessions');
  }

  /**
   * Closes every session (agents reconnect to the next process) and waits for in-flight work.
   * agentConnected is left as is: the next start marks everything disconnected until agents return.
   */
  async stop(): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      return;
    }
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    this.server?.off('upgrade', this.onUpgrade);
    clearInterval(this.heartbeat);
    clearTimeout(this.rewatchTimer);
    this.watcher?.close();
    const sessions = this.registry.all();
    const conns = [...this.conns];
    const closed = conns.map((c) =>
      c.ws.readyState === WebSocket.CLOSED
        ? Promise.resolve()
        : new Promise<void>((res) => c.ws.once('close', res)),
    );
    for (const c of conns) {
      c.session?.markClosed('the control plane is shutting down');
      c.ws.close(1001, 'control plane shutting down');
    }
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(closed),
      new Promise((res) => (grace = setTimeout(res, CLOSE_GRACE_MS))),
    ]);
    clearTimeout(grace);
    for (const c of conns) if (c.ws.readyState !== WebSocket.CLOSED) c.ws.terminate();
    await Promise.all(sessions.map((s) => s.idle()));
    await this.writes.drain();
    await new Promise<void>((res) => this.wss.close(() => res()));
    this.state = 'stopped';
  }

  /** Hosts with a session now. */
  get connectedHosts(): number {
    return this.registry.size;
  }

  /** The session of the host a task is assigned to, if that host is connected. */
  sessionForTask(task: Pick<TaskRecord, 'containerInstanceArn' | 'berth'>): AgentSession | undefined {
    if (task.containerInstanceArn !== undefined) {
      const s = this.registry.forInstance(task.containerInstanceArn);
      if (s) return s;
    }
    const host = task.berth?.managedHostId;
    return host !== undefined ? this.registry.forHost(host) : undefined;
  }

  // --- connections -------------------------------------------------------------------------

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== AGENT_SESSION_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (this.state !== 'running') {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
  };

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const now = this.opts.clock.now();
    const conn: Connection = {
      ws,
      remote: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`,
      openedAt: now,
      lastSeen: now,
      helloStarted: false,
      session: undefined,
    };
    this.conns.add(conn);
    ws.on('pong', () => (conn.lastSeen = this.opts.clock.now()));
    ws.on('message', (data) => {
      conn.lastSeen = this.opts.clock.now();
      try {
        this.onMessage(conn, data);
      } catch (err) {
        this.log.error({ err, remote: conn.remote }, 'agent message handling failed');
      }
    });
    ws.on('close', (code, reason) => this.onClose(conn, code, reason.toString()));
    ws.on('error', (err) => this.log.debug({ err, remote: conn.remote }, 'agent socket error'));
  }

  private onMessage(conn: Connection, data: RawData): void {
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.isBuffer(data)
        ? data.toString('utf8')
        : Buffer.from(data).toString('utf8');
    const msg = parseAgentMessage(text);
    if (!msg) {
      this.log.warn(
        { remote: conn.remote, host: conn.session?.hostId, bytes: text.length },
        'malformed agent message dropped',
      );
      return;
    }
    const raw = msg as unknown as Record<string, unknown>;
    switch (msg.type) {
      case 'hello':
        void this.onHello(conn, raw).catch((err: unknown) => {
          this.log.error({ err, remote: conn.remote }, 'hello failed');
          conn.ws.close(1011, 'could not open the session');
        });
        return;
      case 'report':
        this.onReport(conn, raw);
        return;
      case 'health': {
        const m = checkHealth(raw);
        if (!m.ok) return this.dropped(conn, 'health', m.reason);
        const session = conn.session;
        if (!session) return this.dropped(conn, 'health', 'health before hello');
        for (const arn of session.instanceArns) {
          this.background(this.recordRuntimeHealth(arn, m.value), 'instance health');
        }
        if (m.value.containerRuntime === 'IMPAIRED') {
          this.log.warn(
            { host: session.hostId, reason: m.value.reason },
            'agent reports its container runtime impaired',
          );
        } else {
          this.log.info({ host: session.hostId }, 'agent reports its container runtime healthy');
        }
        return;
      }
      case 'logs-data': {
        const m = checkLogsData(raw);
        if (!m.ok) return this.dropped(conn, 'logs-data', m.reason);
        conn.session?.logStreams.get(m.value.streamId)?.data(m.value);
        return;
      }
      case 'logs-end': {
        const m = checkLogsEnd(raw);
        if (!m.ok) return this.dropped(conn, 'logs-end', m.reason);
        const sink = conn.session?.logStreams.get(m.value.streamId);
        if (sink) {
          conn.session?.logStreams.delete(m.value.streamId);
          sink.end(m.value.error);
        }
        return;
      }
      default: {
        const never: never = msg;
        throw new Error(`unhandled agent message ${JSON.stringify(never)}`);
      }
    }
  }

  private dropped(conn: Connection, type: string, reason: string): void {
    this.log.warn(
      { remote: conn.remote, host: conn.session?.hostId, type, reason },
      'malformed agent message dropped',
    );
  }

  private async onHello(conn: Connection, raw: Record<string, unknown>): Promise<void> {
    if (conn.helloStarted) return this.dropped(conn, 'hello', 'second hello on one socket');
    conn.helloStarted = true;
    const checked = checkHello(raw);
    if (!checked.ok) {
      this.dropped(conn, 'hello', checked.reason);
      // Close reasons are limited to 123 bytes.
      conn.ws.close(SESSION_CLOSE_CODES.badHello, checked.reason.slice(0, 120));
      return;
    }
    const hello = checked.value;
    const { accepted, refused } = await this.checkInstances(
      hello.instances.map((i) => i.containerInstanceArn),
    );
    const wasManaged = (await this.opts.store.get(keys.managedHost(hello.hostId))) !== undefined;
    if (conn.ws.readyState !== WebSocket.OPEN || this.state !== 'running') return;

    const session = new AgentSession(
      conn.ws,
      {
        hostId: hello.hostId,
        agentVersion: hello.agentVersion,
        instanceArns: accepted,
        managed: hello.managed,
      },
      this.log.child({ host: hello.hostId }),
    );
    session.scanAllScopes = hello.managed !== undefined || wasManaged;
    conn.session = session;
    const { replaced, released } = this.registry.register(session);
    if (replaced) {
      replaced.markClosed('replaced by a newer session of the same host');
      replaced.close(SESSION_CLOSE_CODES.replaced, 'replaced by a newer session of the same host');
    }
    for (const arn of released)
      this.background(this.syncInstance(arn), 'instance released by replaced session');
    const recorded = Promise.all([
      ...accepted.map((arn) => this.syncInstance(arn)),
      this.syncManagedHost(hello.hostId),
    ]);
    // Awaited in the queued job below; handled now so that an early failure is never 'unhandled'.
    recorded.catch(() => undefined);
    this.log.info(
      {
        host: hello.hostId,
        session: session.id,
        instances: accepted.length,
        refused: refused.length,
        managed: !!hello.managed,
        replaced: !!replaced,
      },
      'agent session opened',
    );
    if (refused.length > 0)
      this.log.warn({ host: hello.hostId, refused }, 'hello named instances this session will not serve');

    session.enqueue('hello', async () => {
      try {
        await recorded;
      } catch (err) {
        this.log.error({ err, host: hello.hostId }, 'could not record the agent as connected');
        session.close(1011, 'could not record the session');
        return;
      }
      const welcome: WelcomeMessage = {
        type: 'welcome',
        sessionId: session.id,
        heartbeatIntervalMs: this.opts.config.heartbeatIntervalMs,
      };
      if (refused.length > 0) welcome.refusedInstances = refused;
      session.send(welcome);
      await this.fullSync(session);
    });
  }

  /**
   * Splits hello instances into those this session serves (ARN as stored) and refused ones:
   * unknown ARNs (the agent registers anew) and deregistered instances. Refusing only those
   * keeps the session going for the host's other clusters.
   */
  private async checkInstances(arns: string[]): Promise<{
    accepted: string[];
    refused: NonNullable<WelcomeMessage['refusedInstances']>;
  }> {
    const located = arns.map((arn) => ({ arn, ci: containerInstanceKeyOf(arn) }));
    const known = located.filter((l) => l.ci !== undefined);
    const records = await this.opts.store.getMany<ContainerInstanceRecord>(known.map((l) => l.ci!.key));
    const byArn = new Map(known.map((l, i) => [l.arn, records[i]]));
    const accepted: string[] = [];
    const refused: NonNullable<WelcomeMessage['refusedInstances']> = [];
    for (const { arn } of located) {
      const rec = byArn.get(arn);
      if (!rec) refused.push({ containerInstanceArn: arn, reason: 'MISSING' });
      else if (rec.value.status === 'INACTIVE')
        refused.push({ containerInstanceArn: arn, reason: 'INACTIVE' });
      else accepted.push(rec.value.containerInstanceArn);
    }
    return { accepted, refused };
  }

  private onReport(conn: Connection, raw: Record<string, unknown>): void {
    const session = conn.session;
    if (!session) return this.dropped(conn, 'report', 'report before hello');
    const checked = checkReport(raw);
    if (!checked.ok) {
      this.dropped(conn, 'report', checked.reason);
      // With an id the agent can at least drop it from its outbox instead of resending it forever.
      const id = reportId(raw);
      if (id !== undefined)
        session.send({ type: 'ack', id, applied: false, error: `malformed report: ${checked.reason}` });
      return;
    }
    this.reportQueue(session).push(checked.value);
  }

  private reportQueue(session: AgentSession): ReportQueue {
    let queue = this.reportQueues.get(session);
    if (!queue) {
      queue = new ReportQueue({
        apply: (changes) => this.tasks.applyTaskReports(this.deps, changes),
        ack: (id, result) =>
          session.send({
            type: 'ack',
            id,
            applied: result.applied,
            ...(result.error !== undefined ? { error: result.error } : {}),
          }),
        schedule: (job) => session.enqueueInbound('report', job),
        log: session.log,
        maxBatch: MAX_REPORTS_PER_APPLY,
        retryBaseMs: this.opts.config.reportRetryBaseMs,
        retryMaxMs: this.opts.config.reportRetryMaxMs,
      });
      this.reportQueues.set(session, queue);
    }
    return queue;
  }

  private onClose(conn: Connection, code: number, reason: string): void {
    this.conns.delete(conn);
    const session = conn.session;
    if (!session) return;
    session.markClosed('the agent session closed');
    this.reportQueues.get(session)?.close();
    const released = this.registry.unregister(session);
    this.log.info(
      { host: session.hostId, session: session.id, code, reason, current: released.host },
      'agent session closed',
    );
    // On shutdown the next start marks everything disconnected; the store may be closing now.
    if (this.state !== 'running') return;
    for (const arn of released.instances) this.background(this.syncInstance(arn), 'instance disconnected');
    if (released.host) this.background(this.syncManagedHost(session.hostId), 'managed host disconnected');
  }

  /** Pings every socket; terminates the ones silent for longer than the timeout (and sockets that never said hello). */
  private beat(): void {
    const now = this.opts.clock.now();
    const timeout = this.opts.config.heartbeatTimeoutMs;
    for (const c of this.conns) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      if (!c.helloStarted && now - c.openedAt > timeout) {
        this.log.warn({ remote: c.remote }, 'no hello in time; closing');
        c.ws.close(SESSION_CLOSE_CODES.helloTimeout, 'no hello in time');
      } else if (now - c.lastSeen > timeout) {
        this.log.warn(
          { remote: c.remote, host: c.session?.hostId, silentMs: now - c.lastSeen },
          'agent missed its heartbeats; terminating',
        );
        c.ws.terminate();
      } else {
        c.ws.ping();
      }
    }
  }

  // --- connectivity in the store ----------------------------------------------------------------

  private background(p: Promise<unknown>, what: string): void {
    p.catch((err: unknown) => this.log.error({ err, what }, 'agent connectivity write failed'));
  }

  /** Writes the instance's agentConnected as the registry says at write time (serialised per instance). */
  private syncInstance(arn: string): Promise<void> {
    const ci = containerInstanceKeyOf(arn);
    if (!ci) return Promise.resolve();
    return this.writes.run(ci.key, async () => {
      await updateRecord<ContainerInstanceRecord>(this.opts.store, ci.key, (cur) => {
        if (!cur) return undefined;
        const connected = this.registry.forInstance(arn) !== undefined && cur.status !== 'INACTIVE';
        if ((cur.agentConnected ?? false) === connected) return undefined;
        // Since when it is disconnected: the instance health controller declares it lost after a while.
        const berth = { ...cur.berth };
        if (connected) delete berth.disconnectedAt;
        else berth.disconnectedAt = this.opts.clock.now();
        return { ...cur, agentConnected: connected, berth, version: (cur.version ?? 0) + 1 };
      });
    });
  }

  /** The instance's healthStatus from the agent's latest health message (serialised per instance). */
  private recordRuntimeHealth(arn: string, health: HealthMessage): Promise<void> {
    const ci = containerInstanceKeyOf(arn);
    if (!ci) return Promise.resolve();
    return this.writes.run(ci.key, async () => {
      await updateRecord<ContainerInstanceRecord>(this.opts.store, ci.key, (cur) => {
        if (!cur || cur.status === 'INACTIVE') return undefined;
        const healthStatus = withRuntimeHealth(
          cur.healthStatus,
          health.containerRuntime,
          health.reason,
          toEpochSeconds(this.opts.clock.now()),
        );
        return { ...cur, healthStatus, version: (cur.version ?? 0) + 1 };
      });
    });
  }

  /** Upserts the managed host from its current session's hello, or marks it disconnected (serialised per host). */
  private syncManagedHost(hostId: string): Promise<void> {
    const key = keys.managedHost(hostId);
    return this.writes.run(key, async () => {
      await updateRecord<ManagedHostRecord>(this.opts.store, key, (cur) => {
        const now = this.opts.clock.now();
        const next = computeManagedHost(cur, hostId, this.registry.forHost(hostId)?.managed, now);
        // As for instances: since when it is disconnected (a connected record is built without it).
        return next && !next.agentConnected ? { ...next, disconnectedAt: now } : next;
      });
    });
  }

  /** Whatever a previous process left connected is not: no session exists yet. */
  private async sweepStaleConnectivity(): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const r of await listAcrossScopes<ContainerInstanceRecord>(this.opts.store, 'container-instances')) {
      if (r.value.agentConnected) jobs.push(this.syncInstance(r.value.containerInstanceArn));
    }
    for (const r of await this.opts.store.list<ManagedHostRecord>(keys.managedHosts())) {
      if (r.value.agentConnected) jobs.push(this.syncManagedHost(r.value.hostId));
    }
    const results = await Promise.allSettled(jobs);
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0) this.log.error({ failed }, 'could not mark some stale agents disconnected');
    if (jobs.length > 0)
      this.log.info({ count: jobs.length - failed }, 'marked agents of the previous run disconnected');
  }

  // --- desired state to agents -----------------------------------------------------------------

  /** Sends every task assigned to the host that is not STOPPED, and resets what the session remembers. */
  private async fullSync(session: AgentSession): Promise<void> {
    const revision = await this.opts.store.revision();
    const records = await listHostTasks(this.opts.store, session.target, session.scanAllScopes);
    if (session.closed) return;
    session.known.clear();
    session.syncRevision = revision;
    session.floorUntil = 0;
    const live: StoredRecord<TaskRecord>[] = [];
    for (const r of records) {
      if (r.value.lastStatus === 'STOPPED') {
        session.known.set(r.value.taskArn, {
          version: r.version,
          desiredStatus: r.value.desiredStatus ?? 'STOPPED',
          floor: true,
        });
        session.floorUntil = Math.max(session.floorUntil, r.version);
      } else {
        live.push(r);
      }
    }
    const built = await Promise.all(
      live.map(async (r) => {
        try {
          return await this.tasks.buildAgentTask(this.deps, r);
        } catch (err) {
          session.log.error(
            { err, task: r.value.taskArn },
            'could not build the agent view of a task; left out of the sync',
          );
          return undefined;
        }
      }),
    );
    const tasks: AgentTask[] = [];
    for (const [i, t] of built.entries()) {
      if (!t) continue;
      const r = live[i]!;
      tasks.push(t);
      session.known.set(r.value.taskArn, {
        version: r.version,
        desiredStatus: r.value.desiredStatus ?? 'RUNNING',
      });
    }
    session.send({ type: 'tasks', full: true, tasks });
    session.log.debug({ tasks: tasks.length, revision }, 'full task sync sent');
  }

  private follow(fromRevision: number): void {
    this.watcher = this.opts.store.watch(
      '/',
      { fromRevision },
      (c) => this.onChange(c),
      (err) => this.onFeedError(err),
    );
  }

  private onFeedError(err: Error): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.log.warn({ err }, 'store feed ended; following it again');
    this.rewatchTimer = setTimeout(() => {
      void this.refollow(err instanceof CompactedError).catch((e: unknown) => {
        this.log.error({ err: e }, 'could not follow the store feed again');
        this.onFeedError(e instanceof Error ? e : new Error(String(e)));
      });
    }, REWATCH_DELAY_MS);
  }

  private async refollow(compacted: boolean): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    if (!compacted) {
      // The last revision again: a revision may have been cut in the middle; repeats are dropped by version.
      this.follow(Math.max(0, this.lastRevision - 1));
      return;
    }
    // Changes were lost: follow from now and send every session its full state again.
    const now = await this.opts.store.revision();
    this.lastRevision = now;
    this.follow(now);
    for (const s of this.registry.all()) s.enqueue('resync', () => this.fullSync(s));
  }

  private onChange(c: Change): void {
    this.lastRevision = Math.max(this.lastRevision, c.revision);
    const where = parseTaskKey(c.key);
    if (!where) return;
    try {
      const task = c.type === 'put' ? (c.value as TaskRecord) : undefined;
      const arn = task?.taskArn ?? buildTaskArn(where.scope, where.cluster, where.id);
      const targets = new Set<AgentSession>();
      if (task) {
        const s = this.sessionForTask(task);
        if (s) targets.add(s);
        if (task.berth?.managedHostId !== undefined) {
          const h = this.registry.forHost(task.berth.managedHostId);
          if (h) targets.add(h);
        }
      }
      // Sessions that were told about the task before it moved or was deleted forget it.
      for (const s of this.registry.all()) if (s.known.has(arn)) targets.add(s);
      for (const s of targets)
        s.enqueue('task change', () => this.pushChange(s, c.key, arn, task, c.revision));
    } catch (err) {
      // A throwing watcher would end the feed; one bad record must not stop the others.
      this.log.error({ err, key: c.key }, 'could not route a task change');
    }
  }

  private async pushChange(
    session: AgentSession,
    key: string,
    arn: string,
    task: TaskRecord | undefined,
    revision: number,
  ): Promise<void> {
    if (revision <= session.syncRevision) return;
    if (session.floorUntil !== 0 && revision > session.floorUntil) {
      for (const [k, v] of session.known) if (v.floor) session.known.delete(k);
      session.floorUntil = 0;
    }
    const prev = session.known.get(arn);
    const decision = decideTaskPush(
      prev,
      task,
      revision,
      task !== undefined && isTaskOnHost(task, session.target),
    );
    if (!decision.send) {
      if (decision.next) session.known.set(arn, decision.next);
      else session.known.delete(arn);
      return;
    }
    // Built from the record as it is now: a newer change already in the queue is then dropped by version.
    const rec = await this.opts.store.get<TaskRecord>(key);
    if (!rec || session.closed) return;
    const fresh = decideTaskPush(prev, rec.value, rec.version, isTaskOnHost(rec.value, session.target));
    if (fresh.next) session.known.set(arn, fresh.next);
    else session.known.delete(arn);
    if (!fresh.send) return;
    let agentTask: AgentTask;
    try {
      agentTask = await this.tasks.buildAgentTask(this.deps, rec);
    } catch (err) {
      session.known.delete(arn);
      session.log.error(
        { err, task: arn },
        'could not build the agent view of a task; it goes out with its next change',
      );
      return;
    }
    session.send({ type: 'tasks', full: false, tasks: [agentTask] });
  }
}
