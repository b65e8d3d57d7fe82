// One agent's session after its hello: the socket, what the host holds, what the session already
// told the agent about each task, the log streams relayed through it, and two serial queues:
// one for messages to the agent (welcome, full sync, then live changes, strictly in that order),
// one for its reports (applied in the order sent, without waiting behind task pushes).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import type {
  HelloManagedCapacity,
  LogsDataMessage,
  LogsOpenMessage,
  ServerToAgent,
} from '../domain/agent-protocol.js';
import type { HostTarget, SentTask } from './routing.js';

/** Where a relayed log stream's messages go (the HTTP response of `GET /berth/v1/logs`). */
export interface LogRelaySink {
  data(m: LogsDataMessage): void;
  /** The stream is over: the agent ended it (error when it failed) or the session closed. */
  end(error?: string): void;
}

export interface SessionInit {
  hostId: string;
  agentVersion: string;
  instanceArns: readonly string[];
  managed: HelloManagedCapacity | undefined;
}

export class AgentSession {
  readonly id = randomUUID();
  readonly hostId: string;
  readonly agentVersion: string;
  readonly instanceArns: ReadonlySet<string>;
  readonly managed: HelloManagedCapacity | undefined;
  /** By task ARN: what the agent was last told (see routing.ts decideTaskPush). */
  readonly known = new Map<string, SentTask>();
  /** Changes at or below this revision are already reflected in the last full sync. */
  syncRevision = 0;
  /** Floor entries of `known` are needed only until the feed passes this revision. */
  floorUntil = 0;
  /** True when the full sync scans every account/region (the host is or was managed capacity). */
  scanAllScopes = false;
  closed = false;
  readonly logStreams = new Map<string, LogRelaySink>();
  private outbound: Promise<void> = Promise.resolve();
  private inbound: Promise<void> = Promise.resolve();

  constructor(
    private readonly ws: WebSocket,
    init: SessionInit,
    readonly log: Logger,
  ) {
    this.hostId = init.hostId;
    this.agentVersion = init.agentVersion;
    this.instanceArns = new Set(init.instanceArns);
    this.managed = init.managed;
  }

  get target(): HostTarget {
    return { hostId: this.hostId, instanceArns: this.instanceArns };
  }

  /** False when the socket is no longer open (the message is dropped: the next session re-syncs). */
  send(msg: ServerToAgent): boolean {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Runs after every earlier outbound job; skipped once the session is closed. */
  enqueue(what: string, job: () => Promise<void>): void {
    this.outbound = this.outbound.then(() => this.runJob(what, job));
  }

  enqueueInbound(what: string, job: () => Promise<void>): void {
    this.inbound = this.inbound.then(() => this.runJob(what, job));
  }

  private async runJob(what: string, job: () => Promise<void>): Promise<void> {
    if (this.closed) return;
    try {
      await job();
    } catch (err) {
      this.log.error({ err, job: what }, 'agent session job failed');
    }
  }

  /** Resolves when both queues are empty. */
  async idle(): Promise<void> {
    let o: Promise<void>;
    let i: Promise<void>;
    do {
      o = this.outbound;
      i = this.inbound;
      await Promise.all([o, i]);
    } while (o !== this.outbound || i !== this.inbound);
  }

  /**
   * Asks the agent for a task's logs; the agent's logs-data / logs-end go to `sink`.
   * `close()` tells the agent to stop (once; a no-op after the stream ended).
   * Undefined when the session can no longer send.
   */
  openLogs(
    open: Omit<LogsOpenMessage, 'type' | 'streamId'>,
    sink: LogRelaySink,
  ): { close(): void } | undefined {
    const streamId = randomUUID();
    this.logStreams.set(streamId, sink);
    if (!this.send({ type: 'logs-open', streamId, ...open })) {
      this.logStreams.delete(streamId);
      return undefined;
    }
    return {
      close: () => {
        if (this.logStreams.delete(streamId)) this.send({ type: 'logs-close', streamId });
      },
    };
  }

  /** Marks the session over and ends its relayed log streams; closing the socket is the caller's choice. */
  markClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const sink of this.logStreams.values()) sink.end(reason);
    this.logStreams.clear();
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(code, reason);
    }
  }
}
