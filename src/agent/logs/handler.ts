// The agent's side of `berth logs`: the control plane asks over the session (logs-open) for a
// task's output, and this reads it from the engine and answers with logs-data chunks and one
// logs-end. Container output never leaves the host otherwise.
//
// Lines are batched per container into chunks (up to MAX_CHUNK_BYTES, or whatever arrived
// within FLUSH_DELAY_MS), so that a long log does not become one message per line. A chunk never
// mixes stdout and stderr, and a container's lines keep their order. The stream ends (logs-end)
// once every container's log has ended: at once for a plain read, when the containers stop for
// `follow`. logs-close (the reader went away) stops everything and sends nothing more.
import type { Logger } from 'pino';
import type { LogsDataMessage, LogsEndMessage, LogsOpenMessage } from '../../domain/agent-protocol.js';
import type { LogStream } from '../runtime/container-runtime.js';
import type { AgentTaskView, ContainerSnapshot } from '../task-view.js';

/** Largest logs-data payload; a websocket frame of this size is cheap and keeps latency low. */
export const MAX_CHUNK_BYTES = 32 * 1024;
/** How long a partial chunk waits for more lines before it is sent (only matters for `follow`). */
export const FLUSH_DELAY_MS = 20;

export type LogsSend = (m: LogsDataMessage | LogsEndMessage) => void;

export interface LogsHandler {
  open(msg: LogsOpenMessage, send: LogsSend): void;
  close(streamId: string): void;
  closeAll(): void;
}

export function createLogsHandler(view: AgentTaskView, log: Logger): LogsHandler {
  const active = new Map<string, LogRelay>();

  return {
    open(msg, send) {
      // A repeated logs-open (the gateway retried) replaces the earlier reader.
      active.get(msg.streamId)?.stop();
      const end = (error: string) => send(endMessage(msg.streamId, error));
      const task = view.byTaskArn(msg.taskArn);
      if (!task) {
        const at = view.cleanedUpAt(msg.taskArn);
        end(
          at === undefined
            ? `task ${msg.taskArn} is not known to the agent on this host`
            : `task ${msg.taskArn} was cleaned up at ${new Date(at).toISOString()}: the agent removes a stopped task's containers, and their output with them, after the clean-up wait (BERTH_AGENT_TASK_CLEANUP_WAIT_MS, 10 minutes unless set)`,
        );
        return;
      }
      let containers = task.containers;
      if (msg.containerName !== undefined) {
        const c = containers.find((x) => x.name === msg.containerName);
        if (!c) {
          end(`task ${msg.taskArn} has no container named ${msg.containerName}`);
          return;
        }
        if (!c.dockerId) {
          end(`container ${c.name} of task ${msg.taskArn} has not been created, so it has no output yet`);
          return;
        }
        containers = [c];
      }
      // Containers never created (the pull failed, a dependency never started) have no output.
      const readable = containers.filter((c): c is ContainerSnapshot & { dockerId: string } => !!c.dockerId);
      const relay = new LogRelay(msg, send, log, () => active.delete(msg.streamId));
      active.set(msg.streamId, relay);
      relay.start(view, readable);
    },
    close(streamId) {
      active.get(streamId)?.stop();
    },
    closeAll() {
      for (const r of [...active.values()]) r.stop();
    },
  };
}

function endMessage(streamId: string, error?: string): LogsEndMessage {
  return error === undefined ? { type: 'logs-end', streamId } : { type: 'logs-end', streamId, error };
}

interface Pending {
  stream: 'stdout' | 'stderr';
  text: string;
  bytes: number;
}

class LogRelay {
  private readonly streams: LogStream[] = [];
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly msg: LogsOpenMessage,
    private readonly send: LogsSend,
    private readonly log: Logger,
    private readonly onDone: () => void,
  ) {}

  start(view: AgentTaskView, containers: (ContainerSnapshot & { dockerId: string })[]): void {
    const options = {
      follow: this.msg.follow,
      ...(this.msg.tail !== undefined ? { tail: this.msg.tail } : {}),
    };
    const reads = containers.map((c) => this.pump(view, c, options));
    Promise.all(reads).then(
      () => this.finish(),
      (e: unknown) => this.finish(e instanceof Error ? e.message : String(e)),
    );
  }

  /** Stops reading; nothing more is sent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.closeStreams();
    this.onDone();
  }

  private async pump(
    view: AgentTaskView,
    c: ContainerSnapshot & { dockerId: string },
    options: { follow: boolean; tail?: number },
  ): Promise<void> {
    if (this.stopped) return;
    let stream: LogStream;
    try {
      stream = view.logs(c.dockerId, options);
    } catch (e) {
      throw new Error(`container ${c.name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    this.streams.push(stream);
    try {
      for await (const line of stream) {
        if (this.stopped) break;
        this.add(c.name, line.stream, line.text);
      }
    } catch (e) {
      if (this.stopped) return;
      throw new Error(`container ${c.name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  private add(container: string, stream: 'stdout' | 'stderr', text: string): void {
    const line = `${text}\n`;
    const bytes = Buffer.byteLength(line);
    const p = this.pending.get(container);
    if (p && (p.stream !== stream || p.bytes + bytes > MAX_CHUNK_BYTES)) this.flushOne(container);
    const q = this.pending.get(container);
    if (q) {
      q.text += line;
      q.bytes += bytes;
    } else {
      this.pending.set(container, { stream, text: line, bytes });
    }
    if (this.pending.get(container)!.bytes >= MAX_CHUNK_BYTES) this.flushOne(container);
    if (this.pending.size > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flushAll();
      }, FLUSH_DELAY_MS);
    }
  }

  private flushOne(container: string): void {
    const p = this.pending.get(container);
    if (!p) return;
    this.pending.delete(container);
    if (this.stopped) return;
    this.send({
      type: 'logs-data',
      streamId: this.msg.streamId,
      containerName: container,
      stream: p.stream,
      data: p.text,
    });
  }

  private flushAll(): void {
    for (const name of [...this.pending.keys()]) this.flushOne(name);
  }

  private finish(error?: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    this.flushAll();
    this.closeStreams();
    if (error !== undefined) this.log.warn({ taskArn: this.msg.taskArn, error }, 'log stream failed');
    this.send(endMessage(this.msg.streamId, error));
    this.stopped = true;
    this.onDone();
  }

  private closeStreams(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const s of this.streams) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }
}
