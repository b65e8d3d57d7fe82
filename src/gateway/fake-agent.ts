// A scripted agent for tests: speaks the session protocol over a real websocket, records what
// the gateway sends, and lets a test wait (always with a bound) for the next message of a type.
// Like the fake container runtime, it ships in src/ so that unit and integration tests share it.
import { WebSocket } from 'ws';
import {
  AGENT_SESSION_PATH,
  PROTOCOL_VERSION,
  parseServerMessage,
  type HelloMessage,
  type ServerToAgent,
} from '../domain/agent-protocol.js';

export type ServerMessageOf<T extends ServerToAgent['type']> = Extract<ServerToAgent, { type: T }>;

const DEFAULT_WAIT_MS = 5_000;

export class FakeAgent {
  /** Every message received, in order. */
  readonly received: ServerToAgent[] = [];
  /** Received and not yet taken by next(). */
  private readonly unread: ServerToAgent[] = [];
  private readonly wakers = new Set<() => void>();
  readonly closed: Promise<{ code: number; reason: string }>;
  private closeInfo: { code: number; reason: string } | undefined;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((res) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        res(this.closeInfo);
        this.wake();
      });
    });
    ws.on('message', (data) => {
      const m = parseServerMessage(Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
      if (!m) return;
      this.received.push(m);
      this.unread.push(m);
      this.wake();
    });
    ws.on('error', () => undefined);
  }

  /** Connects to `baseUrl` (http://host:port); autoPong false makes the agent miss every heartbeat. */
  static async connect(
    baseUrl: string,
    opts: { autoPong?: boolean; timeoutMs?: number } = {},
  ): Promise<FakeAgent> {
    const url = baseUrl.replace(/^http/, 'ws') + AGENT_SESSION_PATH;
    const ws = new WebSocket(url, {
      autoPong: opts.autoPong ?? true,
      handshakeTimeout: opts.timeoutMs ?? DEFAULT_WAIT_MS,
    });
    const agent = new FakeAgent(ws);
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    return agent;
  }

  /** Connects and says hello; resolves with the welcome and the full `tasks` message. */
  static async session(
    baseUrl: string,
    hello: Partial<HelloMessage> & { hostId: string },
    opts: { autoPong?: boolean; timeoutMs?: number } = {},
  ): Promise<{ agent: FakeAgent; welcome: ServerMessageOf<'welcome'>; tasks: ServerMessageOf<'tasks'> }> {
    const agent = await FakeAgent.connect(baseUrl, opts);
    agent.hello(hello);
    const welcome = await agent.next('welcome', { timeoutMs: opts.timeoutMs });
    const tasks = await agent.next('tasks', { timeoutMs: opts.timeoutMs });
    return { agent, welcome, tasks };
  }

  hello(h: Partial<HelloMessage> & { hostId: string }): void {
    this.send({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      agentVersion: 'fake-1.0',
      instances: [],
      ...h,
    });
  }

  send(msg: object | string): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Takes the first unread message of `type` (matching `where`), waiting at most timeoutMs. */
  async next<T extends ServerToAgent['type']>(
    type: T,
    opts: { timeoutMs?: number | undefined; where?: (m: ServerMessageOf<T>) => boolean } = {},
  ): Promise<ServerMessageOf<T>> {
    const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_WAIT_MS);
    for (;;) {
      const i = this.unread.findIndex(
        (m) => m.type === type && (!opts.where || opts.where(m as ServerMessageOf<T>)),
      );
      if (i >= 0) return this.unread.splice(i, 1)[0] as ServerMessageOf<T>;
      const left = deadline - Date.now();
      if (left <= 0 || this.closeInfo) {
        const why = this.closeInfo
          ? `socket closed (${this.closeInfo.code} ${this.closeInfo.reason})`
          : 'timed out';
        throw new Error(
          `no '${type}' message: ${why}; unread: ${JSON.stringify(this.unread.map((m) => m.type))}`,
        );
      }
      await this.sleepUntilWoken(left);
    }
  }

  /** Waits `ms` and returns the unread messages of `type` that arrived (for "nothing was sent" checks). */
  async quiet<T extends ServerToAgent['type']>(type: T, ms: number): Promise<ServerMessageOf<T>[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.unread.filter((m) => m.type === type) as ServerMessageOf<T>[];
  }

  /** Resolves with the close code once the socket closed, or rejects after timeoutMs. */
  async waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.closed,
        new Promise<never>((_, rej) => {
          timer = setTimeout(() => rej(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Cuts the connection without a close handshake (a crashed agent or a dead network). */
  terminate(): void {
    this.ws.terminate();
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    for (const w of this.wakers) w();
    this.wakers.clear();
  }

  private sleepUntilWoken(ms: number): Promise<void> {
    return new Promise((res) => {
      const t = setTimeout(() => {
        this.wakers.delete(done);
        res();
      }, ms);
      const done = () => {
        clearTimeout(t);
        res();
      };
      this.wakers.add(done);
    });
  }
}

/** Polls `check` until it returns a value other than undefined/false, at most timeoutMs. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = DEFAULT_WAIT_MS,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
