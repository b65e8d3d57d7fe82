// The agent's end of the session with the control plane (src/domain/agent-protocol.ts): one
// websocket at AGENT_SESSION_PATH, kept open for the agent's life.
//
//   connect ── hello ──► welcome ──► onReady (the owner resends its outbox)
//      ▲                    │
//      └── back-off ◄── close / error / silence longer than the timeout
//
// Reconnects with exponential back-off (min doubling to max, with jitter), reset once a session
// is welcomed. The control plane pings (the ws library answers pongs by itself); a socket that
// hears nothing at all for `timeoutMs` is presumed dead and cut.
import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import {
  AGENT_SESSION_PATH,
  parseServerMessage,
  type AgentToServer,
  type HelloMessage,
  type ServerToAgent,
  type WelcomeMessage,
} from '../../domain/agent-protocol.js';
import { backoffDelay, type BackoffPolicy } from '../backoff.js';

export interface SessionClientOptions {
  /** Control plane base URL (http://host:port); the websocket URL is derived from it. */
  endpoint: string;
  /** Built at every connect, so it names the registrations as they are then. */
  hello: () => HelloMessage;
  /** Every server message except welcome, in order. */
  onMessage: (msg: ServerToAgent) => void;
  /** A session was welcomed: from here on, sends reach the control plane. */
  onReady: (welcome: WelcomeMessage) => void;
  /** The session ended (before or after its welcome). */
  onClosed?: (code: number, reason: string) => void;
  backoff: BackoffPolicy;
  timeoutMs: number;
  log?: Logger;
  random?: () => number;
}

type State = 'idle' | 'connecting' | 'open' | 'ready' | 'stopped';

export function sessionUrl(endpoint: string): string {
  const u = new URL(endpoint);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/$/, '')}${AGENT_SESSION_PATH}`;
  u.search = '';
  return u.toString();
}

export class SessionClient {
  private state: State = 'idle';
  private ws: WebSocket | undefined;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;
  private readonly url: string;
  /** How long the session may be silent before it is presumed dead. */
  private silenceMs: number;
  /** Sessions welcomed so far (for tests and logs). */
  sessions = 0;

  constructor(private readonly opts: SessionClientOptions) {
    this.url = sessionUrl(opts.endpoint);
    this.silenceMs = opts.timeoutMs;
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.connect();
  }

  /** Sends when a session is welcomed; false otherwise (the caller keeps what must not be lost). */
  send(msg: AgentToServer): boolean {
    if (this.state !== 'ready' || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Ends the current session and opens a new one at once (e.g. after re-registering). */
  reconnect(reason: string): void {
    if (this.state === 'stopped') return;
    this.attempt = 0;
    this.ws?.close(1000, reason.slice(0, 120));
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearTimeout(this.retryTimer);
    clearTimeout(this.silenceTimer);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      ws.close(1001, 'agent stopping');
    });
  }

  private connect(): void {
    if (this.state === 'stopped') return;
    this.state = 'connecting';
    this.silenceMs = this.opts.timeoutMs;
    const ws = new WebSocket(this.url, { handshakeTimeout: this.opts.timeoutMs, perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', () => {
      if (this.ws !== ws) return;
      this.state = 'open';
      this.touch();
      ws.send(JSON.stringify(this.opts.hello()));
    });
    ws.on('message', (data: RawData) => {
      if (this.ws !== ws) return;
      this.touch();
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Buffer.from(data).toString('utf8');
      const msg = parseServerMessage(text);
      if (!msg) {
        this.opts.log?.warn({ bytes: text.length }, 'unreadable message from the control plane dropped');
        return;
      }
      if (msg.type === 'welcome') {
        // A control plane that pings rarely must not look dead between two pings.
        this.silenceMs = Math.max(this.opts.timeoutMs, 3 * (msg.heartbeatIntervalMs || 0));
        this.touch();
        this.state = 'ready';
        this.attempt = 0;
        this.sessions++;
        this.opts.log?.info({ session: msg.sessionId }, 'session with the control plane open');
        this.opts.onReady(msg);
        return;
      }
      this.opts.onMessage(msg);
    });
    ws.on('ping', () => this.touch());
    ws.on('pong', () => this.touch());
    ws.on('error', (err) => this.opts.log?.debug({ err: err.message }, 'session socket error'));
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      clearTimeout(this.silenceTimer);
      const wasReady = this.state === 'ready';
      this.ws = undefined;
      if (wasReady)
        this.opts.log?.warn({ code, reason: reason.toString() }, 'session with the control plane closed');
      this.opts.onClosed?.(code, reason.toString());
      if (this.state === 'stopped') return;
      this.state = 'idle';
      const delay = backoffDelay(this.opts.backoff, this.attempt++, (this.opts.random ?? Math.random)());
      this.retryTimer = setTimeout(() => this.connect(), delay);
    });
  }

  /** Anything heard from the control plane proves the session alive. */
  private touch(): void {
    clearTimeout(this.silenceTimer);
    const ws = this.ws;
    this.silenceTimer = setTimeout(() => {
      if (this.ws !== ws || !ws) return;
      this.opts.log?.warn({ silentMs: this.silenceMs }, 'control plane silent; reconnecting');
      ws.terminate();
    }, this.silenceMs);
  }
}
